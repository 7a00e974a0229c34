"""Reports from one run's output folder: plots, Markdown and a self-contained HTML page.

Reads only the tables and summary a run wrote; never imports the engine or its components.
"""

from simulator.report.build import build_reports

__all__ = ["build_reports"]
