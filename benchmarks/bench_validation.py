"""Validation time of a scenario against its size: is it linear, and how far from 5 s at 60 MB?

The scenario is the quickstart with a piecewise arrival profile of n steps (a rate trace
written inline, the way a generated scenario grows), at sizes from about 0.35 MB to 11 MB,
written as block YAML and as JSON (which dcsim reads with the JSON parser: JSON is YAML).
Figure: ``load_scenario`` (read, parse, apply no overrides, validate, check references) in
seconds and MB/s.  Baseline: parsing the same text alone with PyYAML's libyaml loader
(``yaml.CSafeLoader``) for YAML and ``json.loads`` for JSON, timed the same way (best of 3,
in this process, untimed ``gc.collect()`` first): the cost of turning text into Python values
that no validating loader can avoid.  Linearity: seconds per MB at the largest size over that
at the smallest (1.0 is linear).  The 60 MB figure is extrapolated from the largest size.
Run: ``python -m benchmarks validation``.
"""

from __future__ import annotations

import gc
import json
import tempfile
from pathlib import Path

import yaml

from benchmarks.timing import best_of

ROOT = Path(__file__).resolve().parent.parent
SIZES = (10_000, 40_000, 160_000)
REPEATS = 3


def scenario_text(steps: int, form: str) -> str:
    base = yaml.safe_load((ROOT / "scenarios" / "quickstart.yaml").read_text())
    base.pop("test")
    base["horizon"] = f"{steps} s"
    base["services"]["api"]["arrivals"]["steps"] = [
        {"at": f"{i} s", "rate": f"{400 + i % 300}/s"} for i in range(steps)]
    if form == "json":
        return json.dumps(base)
    return yaml.safe_dump(base, sort_keys=False, width=200)


def main(sizes: tuple[int, ...] = SIZES, repeats: int = REPEATS) -> dict:
    from simulator.scenario.loader import load_scenario

    out: dict = {}
    print(f"quickstart + an inline piecewise profile of n steps; best of {repeats}, in process")
    print(f"{'form':5} {'steps':>8} {'MB':>6} {'dcsim s':>8} {'MB/s':>6} {'parse-only s':>12} "
          f"{'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for form in ("yaml", "json"):
            per_mb = []
            for n in sizes:
                text = scenario_text(n, form)
                path = Path(tmp) / f"big.{form}"
                path.write_text(text)
                mb = len(text.encode()) / 1e6
                figure = best_of(lambda p=path: load_scenario(p), repeats, setup=gc.collect)
                if form == "yaml":
                    baseline = best_of(lambda t=text: yaml.load(t, Loader=yaml.CSafeLoader),
                                       repeats, setup=gc.collect)
                else:
                    baseline = best_of(lambda t=text: json.loads(t), repeats, setup=gc.collect)
                per_mb.append(figure / mb)
                out[(form, n)] = (mb, figure, baseline)
                print(f"{form:5} {n:>8,} {mb:>6.2f} {figure:>8.2f} {mb / figure:>6.2f} "
                      f"{baseline:>12.2f} {figure / baseline:>5.1f}x")
            linear = per_mb[-1] / per_mb[0]
            at_60 = per_mb[-1] * 60
            verdict = "meets" if at_60 < 5 else "MISSES"
            print(f"  {form}: s/MB at the largest size / at the smallest = {linear:.2f} "
                  f"(1.0 = linear); 60 MB extrapolated: {at_60:.0f} s ({verdict} the 5 s goal)")
    return out


if __name__ == "__main__":
    main()
