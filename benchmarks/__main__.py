"""Run every benchmark case (`python -m benchmarks [name ...] [--flag]`), each printing figure
vs baseline.  A flag runs the named case's entry for it instead of its main (`python -m
benchmarks preflight --calibrate`, `python -m benchmarks lifecycle --profile`)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> None:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    words = [a for a in argv if not a.startswith("--")]
    flags = [a.removeprefix("--").replace("-", "_") for a in argv if a.startswith("--")]
    wanted = [n for n in names if not words or any(a in n for a in words)]
    for name in wanted:
        module = importlib.import_module(f"benchmarks.{name}")
        entries = [getattr(module, f, None) for f in flags] or [module.main]
        if None in entries:
            raise SystemExit(f"{name} has no entry for {' '.join(a for a in argv if a[:2] == '--')}"
                             f" (flags name a function of the module, such as --calibrate)")
        print(f"\n=== {name}")
        started = time.perf_counter()
        for entry in entries:
            entry()
        print(f"({name} took {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
