"""Run folders: write a RunResult to disk safely and read it back, refusing broken folders.

Layout of a run folder: scenario.resolved.yaml, summary.json, tables/<name>.parquet,
report.md, report.html, plots/*.png, with --profile profile/run.pstats and run.txt, and
``.dcsim-run``, a manifest naming the run and the size
of every file it wrote (reports excepted, since ``dcsim report`` rebuilds them), which marks the
folder as dcsim's.  ``write_run`` builds the whole folder beside the old one and swaps it in
(``simulator.outdir.replacing``) under the folder's lock, so a folder always holds one whole run,
the previous one survives any failure or kill, and files dcsim did not write are never touched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.engine.runner import RunResult
from simulator.errors import input_error
from simulator.io import read_json, write_bytes, write_json, write_parquet, write_text
from simulator.locks import folder_lock
from simulator.outdir import MARKER, check_out_dir, replacing
from simulator.scenario.loader import dump_scenario


def write_run(result: RunResult, out_dir: Path, *, reports: bool = True,
              extra: Callable[[], Mapping[str, bytes]] | None = None,
              build: Callable[[Path], list[Path]] | None = None) -> Path:
    """Write a run's files into a fresh folder and swap it in for out_dir; return out_dir.

    `build` builds the reports of the new folder (default: here; ``dcsim run`` passes one
    made ready during the run, see simulator.reporter).
    `extra`, called once the reports are written, gives more files by path relative to the
    folder (the profile of `dcsim run --profile`, which so covers the writing too).
    InputError when out_dir cannot be written, holds files dcsim did not write, or another
    process is writing it.
    """
    out = Path(out_dir)
    with folder_lock(out):
        check_out_dir(out)
        with replacing(out) as new:
            written = [
                write_text(new / "scenario.resolved.yaml", dump_scenario(result.scenario)),
                *(write_parquet(new / "tables" / f"{name}.parquet", frame)
                  for name, frame in result.tables.items()),
                write_json(new / "summary.json", result.summary),
            ]
            if reports:
                from simulator.reporter import build_here

                (build or build_here)(new)
            written += [write_bytes(new / name, data) for name, data in (extra or dict)().items()]
            from simulator import __version__

            sizes = {p.relative_to(new).as_posix(): p.stat().st_size for p in written}
            write_json(new / MARKER, {"dcsim": __version__, "scenario": result.scenario.name,
                                      "seed": result.seed, "files": sizes})
    return out


def _bad(path: Path, message: str):
    return input_error(str(path), "", f"{message}; rerun `dcsim run` to write the folder again")


def _json(path: Path) -> Any:
    try:
        return read_json(path)
    except FileNotFoundError:
        raise _bad(path, "is missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(path, f"is not valid JSON ({exc})") from None
    except OSError as exc:
        raise _bad(path, f"cannot be read ({exc.strerror})") from None


def read_tables(run_dir: Path) -> dict[str, pd.DataFrame]:
    """Every table of a run folder as DataFrames, by name (InputError naming a broken file)."""
    folder = Path(run_dir) / "tables"
    out = {}
    for path in sorted(folder.glob("*.parquet")):
        try:
            out[path.stem] = pd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds for a broken file
            raise _bad(path, f"is not a readable Parquet table ({type(exc).__name__})") from None
    return out


def read_summary(run_dir: Path) -> dict:
    """A run folder's summary.json (InputError when missing, corrupt or not an object)."""
    path = Path(run_dir) / "summary.json"
    summary = _json(path)
    if not isinstance(summary, dict):
        raise _bad(path, "does not hold a JSON object")
    return summary


def check_run_folder(run_dir: Path) -> dict:
    """Check that run_dir holds one whole run and return its summary; InputError naming the
    first missing, truncated or unreadable file.

    The manifest's sizes catch a truncated or replaced file; every table's Parquet footer and
    schema are read (cheap), not its data.
    """
    import pyarrow.parquet as pq

    folder = Path(run_dir)
    if not folder.is_dir():
        raise input_error(str(folder), "", "is not a folder; name a run folder written by "
                          "`dcsim run`")
    summary = read_summary(folder)
    manifest = _json(folder / MARKER) if (folder / MARKER).exists() else {}
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        if (folder / MARKER).exists():
            raise _bad(folder / MARKER, "is not a dcsim run manifest")
        files = {}
    if not (folder / "tables").is_dir():
        raise _bad(folder / "tables", "is missing")
    for name, size in files.items():
        path = folder / name
        if not path.is_file():
            raise _bad(path, "is missing")
        if path.stat().st_size != size:
            raise _bad(path, f"is truncated or changed ({path.stat().st_size} bytes where the "
                       f"run wrote {size})")
    for path in sorted((folder / "tables").glob("*.parquet")):
        try:
            pq.read_schema(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many kinds for a broken file
            raise _bad(path, f"is not a readable Parquet table ({type(exc).__name__})") from None
    return summary
