"""Run the benchmark cases and print every figure in one table (`python -m benchmarks`).

    python -m benchmarks                 every case (``make bench``)
    python -m benchmarks --quick         the quick subset, smaller sizes (``make bench-quick``,
                                         under a minute)
    python -m benchmarks kernel request  the cases whose names contain these words
    python -m benchmarks --verbose       also each case's detail lines
    python -m benchmarks preflight --calibrate   a case's own entry (a function of its module)

Each case module (``bench_*.py``) offers ``rows(quick)``, the figures it measured beside
their baselines and goals (``benchmarks.table.Row``).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

from benchmarks.table import render

QUICK = ("bench_request", "bench_engine", "bench_kernel")
"""The cases of ``--quick`` (each at its smaller size): the request plane, the control
plane and routing."""
OPTIONS = ("quick", "verbose")


def main(argv: list[str]) -> None:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    words = [a for a in argv if not a.startswith("--")]
    flags = [a.removeprefix("--").replace("-", "_") for a in argv if a.startswith("--")]
    quick = "quick" in flags
    entries = [f for f in flags if f not in OPTIONS]
    wanted = [n for n in names if (any(a in n for a in words) if words
                                   else not quick or n in QUICK)]
    rows = []
    started_all = time.perf_counter()
    for name in wanted:
        module = importlib.import_module(f"benchmarks.{name}")
        started = time.perf_counter()
        if entries:
            functions = [getattr(module, f, None) for f in entries]
            if None in functions:
                raise SystemExit(f"{name} has no entry for "
                                 f"{' '.join(a for a in argv if a[:2] == '--')} (flags name a "
                                 "function of the module, such as --calibrate)")
            print(f"\n=== {name}")
            for fn in functions:
                fn()
            continue
        print(f"{name} ...", end=" ", flush=True, file=sys.stderr)
        rows += module.rows(quick)
        print(f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    if rows:
        print(render(rows))
        print(f"(measured in {time.perf_counter() - started_all:.0f} s"
              f"{', quick sizes' if quick else ''})")


if __name__ == "__main__":
    main(sys.argv[1:])
