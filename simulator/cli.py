"""The `dcsim` command line: thin commands that parse, call the public API and print.

Bad input of any kind (a scenario, an override, a price book, a flag) prints one clear message
per problem and exits with code 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from simulator.errors import InputError

app = typer.Typer(
    name="dcsim",
    help="Discrete-event simulator of a cloud region: cost, latency, availability, durability.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override a scenario field: dotted.path=value (repeatable)."),
]
TestOption = Annotated[
    bool, typer.Option("--test", help="Apply the scenario's `test:` block (small and fast).")
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Run even when the preflight estimate exceeds this "
                       "machine's memory or the time limit (an hour a run, a day a sweep).")
]


def _fail(exc: InputError) -> None:
    typer.echo(f"error: {exc.render()}", err=True)
    raise typer.Exit(2)


def _guard(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except InputError as exc:
        _fail(exc)


def _progress_bar() -> tuple[Callable[[float, float], None] | None, Callable[[], None]]:
    """A rich progress bar on a terminal; nothing when output is piped."""
    if not sys.stderr.isatty():
        return None, lambda: None
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("simulating"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(), transient=True,
    )
    task = bar.add_task("run", total=1.0)
    bar.start()
    return (lambda now, horizon: bar.update(task, completed=now / horizon)), bar.stop


@app.command()
def validate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    set_: SetOption = None,
    test: TestOption = False,
    force: ForceOption = False,
) -> None:
    """Check a scenario and print the preflight estimate of its run: every problem as
    path.to.field: message (got VALUE), exit 2 if `dcsim run` would refuse it."""
    from simulator import load_scenario
    from simulator.preflight import check, estimate

    sc = _guard(lambda: load_scenario(scenario, set_, test=test))
    typer.echo(f"{scenario}: ok ({sc.name}: {len(sc.fleets)} fleet(s), {len(sc.services)} service(s))")
    est = estimate(sc)
    typer.echo(est.describe())
    problems = check(est, force=force)
    if problems:  # `dcsim run` would refuse it: say so the same way (exit 2)
        _fail(InputError(f"{scenario} (preflight)", problems))


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the scenario's).")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default results/NAME/seed-N).")] = None,
    set_: SetOption = None,
    test: TestOption = False,
    force: ForceOption = False,
    profile: Annotated[bool, typer.Option(
        "--profile", help="Also write a profile of the run (cProfile) into the folder's "
        "profile/: run.pstats and run.txt.")] = False,
) -> None:
    """Run a scenario and write tables, summary.json and reports to a folder."""
    from simulator import load_scenario
    from simulator import run as run_scenario
    from simulator.limits import MAX_SEED
    from simulator.locks import folder_lock
    from simulator.outdir import check_out_dir
    from simulator.preflight import check, estimate
    from simulator.profiling import profiled
    from simulator.results import write_run

    if seed is not None and not 0 <= seed <= MAX_SEED:
        _fail(InputError("--seed", [_problem("--seed", f"must be an integer from 0 to {MAX_SEED}",
                                             seed)]))
    with profiled(profile) as prof:
        sc = _guard(lambda: load_scenario(scenario, set_, test=test))
    folder = out or Path("results") / sc.name / f"seed-{sc.seed if seed is None else seed}"
    _guard(lambda: check_out_dir(folder, "--out"))  # before the simulation, not after it
    if problems := check(estimate(sc), force=force):
        _fail(InputError(str(scenario), problems))
    from simulator.reporter import build_here, ready_reports

    # the report code is imported by a forked process while the run goes on (not when
    # profiling: the profile covers the reports too); forked before the lock is taken
    reports = contextlib.nullcontext(build_here) if prof else ready_reports()
    try:
        with reports as build, folder_lock(folder, "--out"):  # one writer, run to swap
            if sc.services:
                from simulator.warmup import load_kernels

                load_kernels()  # a signal must not land inside numba's loading (see there)
            progress, done = _progress_bar()
            with prof.running() if prof else contextlib.nullcontext():
                try:
                    result = _guard(lambda: run_scenario(sc, seed, progress=progress))
                finally:
                    done()
                command = "dcsim " + " ".join(sys.argv[1:])
                write_run(result, folder, extra=(lambda: prof.files(command)) if prof else None,
                          build=build)
    except InputError as exc:
        _fail(exc)
    except OSError as exc:  # e.g. the disk filled up or the mount went away during the run
        _fail(InputError("--out", [_problem("", f"could not be written ({exc.strerror or exc}); "
                                            "the previous contents, if any, are unchanged",
                                            str(folder))]))
    s = result.summary
    lat = s["latency"]
    typer.echo(
        f"{sc.name} seed {result.seed}: {s['simulated_s']:g} s simulated in {result.runtime_s:.2f} s, "
        f"cost ${s['cost']['total_usd']:.4f}, {lat['requests']} requests, "
        f"p99 {_ms(lat['p99_s'])}, SLO violations {_pct(lat['slo_violation_fraction'])}"
    )
    typer.echo(f"report: {folder / 'report.html'}  (also report.md, summary.json, tables/)")


def _problem(path: str, message: str, value: Any):
    from simulator.errors import Problem

    return Problem(path, message, value)


def _ms(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 1e3:.1f} ms"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.2f}%"


@app.command()
def sweep(
    file: Annotated[Path, typer.Argument(help="Sweep YAML file.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the grid and exit.")] = False,
    jobs: Annotated[int, typer.Option(min=1, max=1024, help="Parallel workers.")] = 1,
    executor: Annotated[str, typer.Option(help="local (process pool) or dask.")] = "local",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, e.g. tcp://HOST:8786.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default results/sweeps/NAME).")] = None,
    resume: Annotated[bool, typer.Option(help="Keep finished runs and run only the rest.")] = True,
    test: TestOption = False,
    force: ForceOption = False,
) -> None:
    """Run a sweep (axes × replications) and write the comparison tables and report."""
    from simulator.experiments.executors import make_executor
    from simulator.experiments.runner import default_out_dir, run_sweep, sweep_folder_problem
    from simulator.experiments.spec import load_sweep
    from simulator.locks import folder_lock
    from simulator.outdir import check_out_dir
    from simulator.preflight import SWEEP_LIMIT_S, check, estimate_many

    if executor not in ("local", "dask"):
        _fail(InputError("--executor", [_problem("--executor", "use local or dask", executor)]))
    sw = _guard(lambda: load_sweep(file, test=test))
    est = estimate_many(c.scenario for c in sw.cells for _ in range(sw.spec.replications))
    problems = check(est, limit_s=SWEEP_LIMIT_S * jobs, force=force)
    if dry_run:
        typer.echo(sw.grid_text())
        typer.echo(est.describe())
        for problem in problems:
            typer.echo(f"warning: the sweep would be refused without --force: {problem}")
        return
    if problems:
        _fail(InputError(str(file), problems))
    folder = out or default_out_dir(sw)
    _guard(lambda: check_out_dir(folder, "--out", reusable=sweep_folder_problem))
    with contextlib.ExitStack() as stack:
        _guard(lambda: stack.enter_context(folder_lock(folder, "--out")))  # one writer
        progress, done = _sweep_progress()
        try:
            ex = make_executor(executor, jobs, scheduler)
        except (OSError, TimeoutError) as exc:
            _fail(InputError("--scheduler", [_problem(
                "--scheduler", f"cannot reach the Dask scheduler ({exc}); check the address and that "
                "`dask scheduler` runs there", scheduler)]))
        try:
            result = run_sweep(sw, folder, executor=ex, resume=resume, progress=progress)
        finally:
            done()
            ex.close()
        typer.echo(
            f"sweep {sw.spec.name}: {len(result.runs)} runs ({result.executed} run now, "
            f"{result.reused} kept from before), {len(sw.cells)} cells"
        )
        for line in result.rerun_lines():
            typer.echo(line)
        restarts = getattr(ex, "restarts", 0)
        if restarts:
            typer.echo(f"worker processes died {restarts} time(s); their unfinished runs were run again")
        if result.best:
            typer.echo(f"goal: {result.best['message']}")
            if result.best.get("params"):
                typer.echo("      " + ", ".join(f"{k}={v}" for k, v in result.best["params"].items()))
        typer.echo(f"report: {folder / 'report.html'}  (runs.parquet, cells.parquet, differences.parquet)")
        if result.failed:
            typer.echo(f"error: {len(result.failed)} of {len(result.runs)} runs failed "
                       f"(listed in {folder / 'failed.json'}; run the sweep again to retry them):", err=True)
            for run_id, error in result.failed:
                typer.echo(f"  {run_id}: {error}", err=True)
            raise typer.Exit(1)


def _sweep_progress():
    """A rich progress bar with ETA across runs on a terminal; nothing when piped."""
    if not sys.stderr.isatty():
        return None, lambda: None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn("runs"), BarColumn(), MofNCompleteColumn(), TextColumn("ETA"),
                   TimeRemainingColumn(), transient=True)
    task = bar.add_task("sweep", total=None)
    bar.start()
    return (lambda done, total: bar.update(task, completed=done, total=total)), bar.stop


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="A run folder written by `dcsim run`.")],
) -> None:
    """Rebuild report.md, report.html and plots/ of a run folder from its tables."""
    from simulator.report import build_reports

    if (folder / "sweep.json").exists():
        from simulator.experiments.runner import check_sweep_folder
        from simulator.report.sweep import build_sweep_report

        _guard(lambda: check_sweep_folder(folder))
        paths = build_sweep_report(folder)
        typer.echo(f"report: {folder / 'report.html'} ({len(paths)} files)")
        return
    if not (folder / "summary.json").exists():
        _fail(InputError(str(folder), [_problem("", "not a run folder (no summary.json); run `dcsim run` first", str(folder))]))
    from simulator.locks import folder_lock
    from simulator.results import check_run_folder

    try:
        with folder_lock(folder, "FOLDER"):  # a rerun must not swap the folder away meanwhile
            check_run_folder(folder)  # a corrupt or partial folder: exit 2 naming the file
            paths = build_reports(folder)
    except InputError as exc:
        _fail(exc)
    except OSError as exc:
        _fail(InputError(str(folder), [_problem("", f"could not be written ({exc.strerror or exc})", str(folder))]))
    typer.echo(f"report: {folder / 'report.html'} ({len(paths)} files)")


@app.command()
def schema(
    reference: Annotated[bool, typer.Option(help="Print the Markdown scenario reference.")] = False,
) -> None:
    """Print the JSON schema of scenario files (or the Markdown reference)."""
    from simulator.scenario.reference import json_schema, markdown_reference

    typer.echo(markdown_reference() if reference else json.dumps(json_schema(), indent=2))


@app.command()
def catalog(
    family: Annotated[str | None, typer.Option(help="Only this family, e.g. m or c.")] = None,
    min_vcpu: Annotated[int | None, typer.Option(help="At least this many vCPUs.")] = None,
    min_memory_gib: Annotated[float | None, typer.Option(help="At least this much memory (GiB).")] = None,
    pricebook: Annotated[str, typer.Option(help="Price book for the $/h column.")] = "aws-us-east-1",
) -> None:
    """List instance types, one per line beginning with its name."""
    from simulator.billing.pricebook import load_pricebook
    from simulator.compute.catalog import format_catalog, load_catalog

    cat = _guard(load_catalog)
    book = _guard(lambda: load_pricebook(pricebook, Path.cwd()))
    types = cat.filter(family=family, min_vcpu=min_vcpu, min_memory_gib=min_memory_gib)
    if not types:
        _fail(InputError("catalog", [_problem("--family", "no instance type matches these filters", family)]))
    typer.echo(format_catalog(types, book))


INTERNAL_ERROR = 70
"""Exit code of a bug in dcsim (EX_SOFTWARE), apart from 2 for bad input."""


class Terminated(BaseException):
    """SIGTERM, raised where the process is so that every `finally` and `with` block runs (the
    lock file, a half-built run folder beside the old one, sweep workers); Python's default
    for SIGTERM ends the process without running them.  Not an Exception (never reported as a
    bug) nor a KeyboardInterrupt (which the command-line library turns into a silent 130)."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated


def main() -> None:
    """Console-script entry point: bad input exits 2 with its message; anything else is a bug,
    reported in one line with the file that holds the full traceback, and exit code 70."""
    signal.signal(signal.SIGTERM, _terminated)  # unwind as for Ctrl-C: locks, temporaries
    try:
        app()
    except Terminated:
        typer.echo("terminated", err=True)
        sys.exit(128 + signal.SIGTERM)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except MemoryError:
        typer.echo("error: the run ran out of memory; shorten the horizon, shrink the fleet or "
                   "stop recording every request (`output.requests: false`), and see `dcsim validate` for "
                   "the estimate", err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 (the last resort: never a raw traceback)
        sys.exit(_report_bug(exc))
    finally:
        # Everything is written (atomically, files closed) and stdout/stderr are flushed by
        # the interpreter itself: what is left is the final garbage collection, which walks
        # every object numba and pandas built (0.6 s of a 2 s quick start).  Frozen objects
        # are skipped by it and freed with the process.
        gc.freeze()


def _report_bug(exc: BaseException) -> int:
    import tempfile
    import traceback

    text = "".join(traceback.format_exception(exc))
    where = Path(tempfile.gettempdir()) / f"dcsim-bug-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.txt"
    try:
        where.write_text(f"dcsim {' '.join(sys.argv[1:])}\n\n{text}")
        saved = f"the full traceback is in {where}"
    except OSError:
        saved = "the traceback could not be saved"
    message = str(exc).splitlines()[0][:200] if str(exc) else ""
    typer.echo(f"error: internal error, a bug in dcsim ({type(exc).__name__}: {message}); "
               f"{saved}; please report it with that file", err=True)
    return INTERNAL_ERROR


if __name__ == "__main__":
    main()
