"""Build one run's report: plots/*.png, report.md and a self-contained report.html.

``build_reports(run_dir)`` reads only what the run wrote (summary.json, tables/*.parquet,
scenario.resolved.yaml) and never the engine.  Missing or empty tables become a one-line note
where their plot or table would be; a plot that fails becomes a warning in the report rather
than stopping it.  Every file is written atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.io import read_json, write_text
from simulator.report import formatting as fmt
from simulator.report import plots, sections, tables
from simulator.report.document import (
    Block,
    Code,
    Document,
    Image,
    Note,
    Paragraph,
    to_html,
    to_markdown,
)

PLOTS_DIR = "plots"


def _read_summary(run_dir: Path) -> tuple[dict[str, Any], str]:
    path = run_dir / "summary.json"
    if not path.is_file():
        return {}, "This run folder has no summary.json; figures below come from its tables."
    try:
        summary = read_json(path)
    except (OSError, ValueError) as exc:
        return {}, f"summary.json could not be read ({exc})."
    if not isinstance(summary, dict):
        return {}, "summary.json does not hold an object."
    return summary, ""


def _slo_by_service(summary: Mapping[str, Any], loaded: sections.Loaded) -> dict[str, float]:
    """SLO per service (and "all") from the latency table, else from summary.latency."""
    slo: dict[str, float] = {}
    latency = summary.get("latency") if isinstance(summary.get("latency"), Mapping) else {}
    by_service = latency.get("by_service") if isinstance(latency.get("by_service"), Mapping) else {}
    for service, figures in by_service.items():
        if isinstance(figures, Mapping) and fmt.finite(figures.get("slo_s")) is not None:
            slo[str(service)] = float(figures["slo_s"])
    if fmt.finite(latency.get("slo_s")) is not None:
        slo["all"] = float(latency["slo_s"])
    frame, _ = loaded["latency"]
    if frame is not None and "slo_s" in frame.columns:
        for service, value in zip(frame["service"].astype(str), frame["slo_s"], strict=True):
            if fmt.finite(value) is not None:
                slo[service] = float(value)
    return slo


class _Plotter:
    """Draws plots into run_dir/plots, recording what was written and one block per plot."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.written: list[Path] = []

    def draw(self, filename: str, alt: str, frame: pd.DataFrame | None, missing: str,
             draw: Callable[[pd.DataFrame, Path], Path]) -> Block:
        path = self.run_dir / PLOTS_DIR / filename
        if frame is None:
            path.unlink(missing_ok=True)  # a stale plot from an earlier build would mislead
            return Note(missing)
        try:
            self.written.append(draw(frame, path))
        except Exception as exc:  # one bad plot must not cost the reader the whole report
            path.unlink(missing_ok=True)
            return Note(f"Plot {filename} failed: {type(exc).__name__}: {exc}", warning=True)
        return Image(f"{PLOTS_DIR}/{filename}", alt)


def _load_all(run_dir: Path) -> dict[str, tuple[pd.DataFrame | None, str]]:
    loaded = {name: tables.load_table(run_dir, name)
              for name in ("cost", "latency", "latency_sketch", "service_intervals",
                           "instance_intervals")}
    loaded["requests"] = tables.load_table(run_dir, "requests", columns=("service", "latency_s"))
    return loaded


def build_document(run_dir: Path) -> tuple[Document, list[Path]]:
    """Draw the plots and assemble the report structure; returns it and the PNGs written."""
    run_dir = Path(run_dir)
    summary, summary_note = _read_summary(run_dir)
    loaded = _load_all(run_dir)
    slo = _slo_by_service(summary, loaded)
    until_s = fmt.finite(summary.get("simulated_s"))
    plotter = _Plotter(run_dir)
    intervals, intervals_note = loaded["service_intervals"]
    sketch, sketch_note = loaded["latency_sketch"]
    requests, _ = loaded["requests"]

    cost_plot = plotter.draw("cost_breakdown.png", "Cost by service and usage type",
                             *loaded["cost"], plots.plot_cost_breakdown)
    over_time = plotter.draw("latency_over_time.png", "Mean latency and arrivals per interval",
                             intervals, intervals_note,
                             lambda f, p: plots.plot_latency_over_time(f, p, slo_s=slo))
    if sketch is None and requests is not None:  # exact CDF from per-request rows instead
        sketch, cdf_draw = requests, plots.plot_request_latency_cdf
    else:
        cdf_draw = plots.plot_latency_cdf
    cdf = plotter.draw("latency_cdf.png", "Latency CDF per service", sketch, sketch_note,
                       lambda f, p: cdf_draw(f, p, slo_s=slo))
    running = plotter.draw("running_instances.png", "Running instances over time",
                           *loaded["instance_intervals"],
                           lambda f, p: plots.plot_running_instances(f, p, until_s=until_s))
    if intervals is not None and not {"work_s", "vcpus"} <= set(intervals.columns):
        intervals, intervals_note = None, "The service_intervals table lacks work_s or vcpus."
    utilization = plotter.draw("utilization.png", "vCPU utilization per interval", intervals,
                               intervals_note, plots.plot_utilization)

    name = str(summary.get("scenario") or run_dir.name)
    seed = summary.get("seed")
    doc = Document(f"dcsim report: {name}" + (f" (seed {seed})" if seed is not None else ""))
    doc.add(Paragraph(_run_sentence(summary)))
    if summary_note:
        doc.add(Note(summary_note))
    if summary.get("error"):
        doc.add(Note(f"The run ended with an error: {summary['error']}", warning=True))
    doc.add(*sections.headline(summary, loaded))
    doc.add(*sections.cost(summary, loaded, [cost_plot]))
    doc.add(*sections.latency(summary, loaded, [over_time, cdf]))
    doc.add(*sections.fleet(summary, loaded, [running, utilization], until_s))
    doc.add(*sections.others(summary))
    doc.add(*sections.run_info(summary, loaded))
    doc.add(*_scenario(run_dir))
    return doc, plotter.written


def _run_sentence(summary: Mapping[str, Any]) -> str:
    """One line of provenance: "Simulated 3,600 s (1 h) in 2.3 s of wall time; 1,234 events"."""
    parts = []
    simulated = fmt.finite(summary.get("simulated_s"))
    runtime = fmt.finite(summary.get("runtime_s"))
    if simulated is not None:
        parts.append(f"Simulated {fmt.num(simulated)} s ({fmt.hours(simulated)} h)"
                     + (f" in {fmt.num(runtime)} s of wall time" if runtime is not None else ""))
    elif runtime is not None:
        parts.append(f"Ran for {fmt.num(runtime)} s of wall time")
    if summary.get("events") is not None:
        parts.append(f"{fmt.num(summary['events'])} events")
    if summary.get("dcsim_version"):
        parts.append(f"dcsim {summary['dcsim_version']}")
    return ("; ".join(parts) + ".") if parts else "Run details are not recorded."


def _scenario(run_dir: Path) -> list[Block]:
    path = run_dir / "scenario.resolved.yaml"
    if not path.is_file():
        return [Note("No scenario.resolved.yaml in this run folder.")]
    text = path.read_text(encoding="utf-8", errors="replace")
    return [Code(text, "Resolved scenario (scenario.resolved.yaml)", "yaml")]


def build_reports(run_dir: Path) -> list[Path]:
    """Write plots/*.png, report.md and report.html into run_dir; return the paths written.

    The Markdown links plots by relative path; the HTML page embeds them as data URIs and
    needs nothing else.  Safe to call again: files are replaced atomically and plots whose
    data has gone are removed.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run folder {run_dir} does not exist")
    doc, written = build_document(run_dir)
    markdown = write_text(run_dir / "report.md", to_markdown(doc))
    page = write_text(run_dir / "report.html", to_html(doc, run_dir))
    return [*written, markdown, page]
