"""Build one run's report: plots/*.png, report.md and a self-contained report.html.

``build_reports(run_dir)`` reads only what the run wrote (summary.json, tables/*.parquet,
scenario.resolved.yaml) and never the engine.  The page is a frame (title, provenance, the
headline metrics every section marks, the run details, the scenario) around one part per
registered section (``simulator.sections``), in order: a section's own report function, or a
key/value table of its summary part.  Figures come from summary.json; tables only feed
plots and detail tables.  A plot that fails becomes a warning rather than stopping the report.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.io import read_json, write_text
from simulator.report import formatting as fmt
from simulator.report import sections as parts
from simulator.report import tables
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
from simulator.sections import sections
from simulator.signals import held

PLOTS_DIR = "plots"


def _read_summary(run_dir: Path) -> tuple[dict[str, Any], str]:
    path = run_dir / "summary.json"
    if not path.is_file():
        return {}, "This run folder has no summary.json; its figures are missing."
    try:
        summary = read_json(path)
    except (OSError, ValueError) as exc:
        return {}, f"summary.json could not be read ({exc})."
    if not isinstance(summary, dict):
        return {}, "summary.json does not hold an object."
    return summary, ""


class ReportInput:
    """What a section's report function reads: the summary, the run's tables and a plotter."""

    def __init__(self, run_dir: Path, summary: Mapping[str, Any]):
        self.run_dir = run_dir
        self.summary = summary
        self.until_s = fmt.finite(summary.get("simulated_s"))
        self.written: list[Path] = []
        self._pending: list[tuple] = []
        self._tables: dict[tuple, tuple[pd.DataFrame | None, str]] = {}

    def part(self, key: str) -> Mapping[str, Any]:
        """A summary section (an empty mapping when absent)."""
        value = self.summary.get(key)
        return value if isinstance(value, Mapping) else {}

    def table(self, name: str, columns: Sequence[str] | None = None
              ) -> tuple[pd.DataFrame | None, str]:
        """(frame, "") or (None, why it is unusable); each table is read once."""
        key = (name, tuple(columns) if columns else None)
        if key not in self._tables:
            self._tables[key] = tables.load_table(self.run_dir, name, columns)
        return self._tables[key]

    def loaded(self) -> dict[str, tuple[pd.DataFrame | None, str]]:
        """Every table read so far, by name."""
        return {name: value for (name, _), value in self._tables.items()}

    def slo_by_service(self) -> dict[str, float]:
        """SLO per service (and "all") from summary.latency."""
        latency = self.part("latency")
        out = {}
        by_service = latency.get("by_service")
        for service, figures in (by_service.items() if isinstance(by_service, Mapping) else ()):
            if isinstance(figures, Mapping) and fmt.finite(figures.get("slo_s")) is not None:
                out[str(service)] = float(figures["slo_s"])
        if fmt.finite(latency.get("slo_s")) is not None:
            out["all"] = float(latency["slo_s"])
        return out

    def draw(self, filename: str, alt: str, frame: pd.DataFrame | None, missing: str,
             draw: Callable[[pd.DataFrame, Path], Path]) -> Block:
        """A plot into plots/ (or a note saying why there is none).

        The plot is drawn later, by :meth:`draw_pending`, with the others: its block stands
        in the document until then."""
        path = self.run_dir / PLOTS_DIR / filename
        if frame is None:
            path.unlink(missing_ok=True)  # a stale plot from an earlier build would mislead
            return Note(missing)
        block = Image(f"{PLOTS_DIR}/{filename}", alt)
        self._pending.append((block, filename, frame, draw, path))
        return block

    def draw_pending(self) -> dict[int, Block]:
        """Draw every plot asked for; return the blocks of those that failed (a Note each, by
        id of the Image block they replace).

        With fork available (Linux, macOS) and this process single-threaded (as ``dcsim run``
        and ``dcsim report`` are; a notebook kernel is not, and forking it could deadlock) a
        child process draws every other plot while this one draws the rest: plots are most of
        the time a report takes, and two cores halve it.  The child reports failures through
        a pipe; a child that dies is a failure of its plots, never of the report."""
        jobs, self._pending = self._pending, []
        failed: dict[int, Block] = {}
        mine, theirs = jobs, []
        child = read_end = None
        try:
            if len(jobs) > 1 and hasattr(os, "fork") and threading.active_count() == 1:
                mine, theirs = jobs[::2], jobs[1::2]
                read_end, write_end = os.pipe()
                # a signal during fork would interrupt the interpreter's own fork handlers:
                # it is held until the child exists, then taken as usual (dcsim's SIGTERM
                # unwinding), with the child already known to the cleanup below
                with held():
                    child = os.fork()
                    if child == 0:  # pragma: no cover - measured through the parent
                        _child(theirs, read_end, write_end)
                os.close(write_end)
            for block, *job in mine:
                if note := _draw_one(*job):
                    failed[id(block)] = Note(note, warning=True)
            if child is not None:
                with os.fdopen(read_end, "rb") as pipe:
                    data = pipe.read()
                _, status = os.waitpid(child, 0)
                child = None
                notes = json.loads(data) if status == 0 and data else None
                for i, (block, filename, *_rest) in enumerate(theirs):
                    if notes is None:
                        failed[id(block)] = Note(
                            f"Plot {filename} failed: its drawing process ended with status "
                            f"{os.waitstatus_to_exitcode(status)}", warning=True)
                    elif str(i) in notes:
                        failed[id(block)] = Note(notes[str(i)], warning=True)
        finally:
            if child is not None:  # interrupted: the child must not outlive the folder
                os.kill(child, signal.SIGKILL)
                os.waitpid(child, 0)
        for block, _filename, _frame, _draw, path in jobs:
            if id(block) not in failed:
                self.written.append(path)
        return failed


def _child(jobs: list, read_end: int, write_end: int) -> None:  # pragma: no cover
    """The forked child: draw `jobs`, send their failures to the parent, exit (never return).
    Signals take their default action here (a SIGTERM ends the child at once)."""
    code = 0
    try:
        os.close(read_end)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        notes = {i: _draw_one(*job[1:]) for i, job in enumerate(jobs)}
        data = json.dumps({i: n for i, n in notes.items() if n}).encode()
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
    except BaseException:  # noqa: BLE001 - the parent reports it
        code = 1
    finally:
        os._exit(code)


def _draw_one(filename: str, frame: pd.DataFrame, draw: Callable[[pd.DataFrame, Path], Path],
              path: Path) -> str:
    """Draw one plot; "" or why it failed (the file removed: one bad plot must not cost the
    reader the whole report)."""
    try:
        draw(frame, path)
    except Exception as exc:  # noqa: BLE001
        path.unlink(missing_ok=True)
        return f"Plot {filename} failed: {type(exc).__name__}: {exc}"
    return ""


def build_document(run_dir: Path) -> tuple[Document, list[Path]]:
    """Draw the plots and assemble the report structure; returns it and the PNGs written."""
    run_dir = Path(run_dir)
    summary, summary_note = _read_summary(run_dir)
    view = ReportInput(run_dir, summary)
    name = str(summary.get("scenario") or run_dir.name)
    seed = summary.get("seed")
    doc = Document(f"dcsim report: {name}" + (f" (seed {seed})" if seed is not None else ""))
    doc.add(Paragraph(_run_sentence(summary)))
    if summary_note:
        doc.add(Note(summary_note))
    if summary.get("error"):
        doc.add(Note(f"The run ended with an error: {summary['error']}", warning=True))
    registered = sections()
    doc.add(*parts.headline(summary, [m for s in registered for m in s.metrics(None) if m.headline]))
    for section in registered:
        if section.report is not None:
            doc.add(*section.report(view))
        elif section.name in summary:
            doc.add(*parts.generic(section.name, summary[section.name]))
    doc.add(*parts.others(summary, {s.name for s in registered}))
    doc.add(*parts.run_info(summary, view.loaded()))
    doc.add(*_scenario(run_dir))
    failed = view.draw_pending()
    doc.blocks = [failed.get(id(block), block) for block in doc.blocks]
    return doc, view.written


def _run_sentence(summary: Mapping[str, Any]) -> str:
    """One line of provenance: "Simulated 3,600 s (1 h) in 2.3 s of wall time; 1,234 events"."""
    out = []
    simulated = fmt.finite(summary.get("simulated_s"))
    runtime = fmt.finite(summary.get("runtime_s"))
    if simulated is not None:
        out.append(f"Simulated {fmt.num(simulated)} s ({fmt.hours(simulated)} h)"
                   + (f" from {summary['start']}" if summary.get("start") else "")
                   + (f" in {fmt.num(runtime)} s of wall time" if runtime is not None else ""))
    elif runtime is not None:
        out.append(f"Ran for {fmt.num(runtime)} s of wall time")
    if summary.get("events") is not None:
        out.append(f"{fmt.num(summary['events'])} events")
    return ("; ".join(out) + ".") if out else "Run details are not recorded."


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
