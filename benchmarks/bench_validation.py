"""Validation time of a scenario against its size: is it linear, and is 60 MB under 5 s?

The scenario is the quickstart with a piecewise arrival profile of n steps (a rate trace
written inline, the way a generated scenario grows), from about 0.4 MB to 60 MB of block
YAML, and the same content as JSON (which dcsim reads with the JSON parser: JSON is YAML).
Figure: ``load_scenario`` (read, parse, apply no overrides, validate, check references) in
seconds and MB/s.  Baseline: parsing the same text alone with the parser dcsim uses
(``yaml_rs.loads`` with dcsim's options for YAML, ``json.loads`` for JSON), timed the same way
(best of 3, in this process, untimed ``gc.collect()`` first, under the same collector policy:
none while loading; each result is freed after the clock stops, as a run keeps its scenario): the cost of turning text into
Python values that no validating loader can avoid.  Linearity: seconds per MB at the largest
size over that at the smallest (1.0 is linear).  The 60 MB figure is the largest size's
seconds per MB times 60 (the largest YAML is 60 MB itself).  For comparison, PyYAML's libyaml
loader, which dcsim used before, parses 6.4 MB of this YAML in about 9 s (0.7 MB/s).
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
SIZES = (10_000, 160_000, 1_500_000)
REPEATS = 3
GOAL_S = 5.0


def scenario_text(steps: int, form: str) -> str:
    """The quickstart with an inline profile of `steps` rate steps, as block YAML or JSON.

    The steps are formatted directly (PyYAML's dumper would take a minute at 60 MB); the text
    is what ``yaml.safe_dump`` writes for them."""
    base = yaml.safe_load((ROOT / "scenarios" / "quickstart.yaml").read_text())
    base.pop("test")
    base["horizon"] = f"{steps} s"
    base["services"]["api"]["arrivals"]["steps"] = []
    if form == "json":
        text = json.dumps(base)
        marker = '"steps": []'
        body = ", ".join(f'{{"at": "{i} s", "rate": "{400 + i % 300}/s"}}' for i in range(steps))
        return text.replace(marker, f'"steps": [{body}]')
    text = yaml.safe_dump(base, sort_keys=False, width=200)
    marker = "      steps: []\n"
    assert marker in text
    body = "".join(f"      - at: {i} s\n        rate: {400 + i % 300}/s\n" for i in range(steps))
    return text.replace(marker, "      steps:\n" + body)


def _parse_only(form: str):
    if form == "json":
        return json.loads
    import yaml_rs

    from simulator.inputs import _LIMITS

    return lambda t: yaml_rs.loads(t, parse_datetime=False, alias_limits=_LIMITS)


def _quiet(parse, text: str):
    """`parse(text)` under the collector policy load_scenario applies (none while loading)."""
    from simulator.gcpolicy import rare_collections

    with rare_collections(None):
        return parse(text)


def main(sizes: tuple[int, ...] = SIZES, repeats: int = REPEATS) -> dict:
    from simulator.scenario.loader import load_scenario

    out: dict = {}
    kept: list = []  # results freed after the clock stops (a run keeps its scenario)
    print(f"quickstart + an inline piecewise profile of n steps; best of {repeats}, in process")
    print(f"{'form':5} {'steps':>10} {'MB':>6} {'dcsim s':>8} {'MB/s':>6} {'parse-only s':>12} "
          f"{'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for form in ("yaml", "json"):
            parse = _parse_only(form)
            per_mb = []
            for n in sizes:
                text = scenario_text(n, form)
                path = Path(tmp) / f"big.{form}"
                path.write_text(text)
                mb = len(text.encode()) / 1e6
                assert len(load_scenario(path).services["api"].arrivals.steps) == n
                figure = best_of(lambda p=path: kept.append(load_scenario(p)), repeats,
                                 setup=lambda: (kept.clear(), gc.collect()))
                baseline = best_of(lambda t=text, f=parse: kept.append(_quiet(f, t)), repeats,
                                   setup=lambda: (kept.clear(), gc.collect()))
                kept.clear()
                per_mb.append(figure / mb)
                out[(form, n)] = (mb, figure, baseline)
                print(f"{form:5} {n:>10,} {mb:>6.2f} {figure:>8.2f} {mb / figure:>6.2f} "
                      f"{baseline:>12.2f} {figure / baseline:>5.1f}x")
                del text
            linear = per_mb[-1] / per_mb[0]
            at_60 = per_mb[-1] * 60
            verdict = "meets" if at_60 < GOAL_S else "MISSES"
            print(f"  {form}: s/MB at the largest size / at the smallest = {linear:.2f} "
                  f"(1.0 = linear); 60 MB: {at_60:.1f} s ({verdict} the {GOAL_S:g} s goal)")
            out[form] = (linear, at_60)
    return out


def rows(quick: bool = False) -> list:
    from benchmarks.table import Row, quiet

    r = quiet(main)
    out = []
    for form in ("yaml", "json"):
        linear, at_60 = r[form]
        mb, figure, baseline = r[(form, SIZES[-1])]
        out.append(Row("scenario loading", f"{form}, {mb:.0f} MB scenario", figure, "s",
                       "parse only", baseline))
        out.append(Row("scenario loading", f"{form}, 60 MB (extrapolated, s/MB × 60)", at_60, "s",
                       max_value=GOAL_S, note=f"s/MB largest / smallest = {linear:.2f}"))
    return out


if __name__ == "__main__":
    main()
