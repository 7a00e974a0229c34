"""Hostile inputs (issue 7): every input kind and command ends in exit 2, the culprit named, fast.

Each case builds its inputs in tmp_path from a copy of scenarios/quickstart.yaml (mutated as a
mapping, so the cases do not depend on the file's text), runs one `dcsim` command and asserts:

* the exit code (2 for every hostile case, 0 for the legitimate ones such as proper merge keys);
* no Python traceback (in stdout, stderr, or an exception CliRunner caught);
* the offending field, file or flag named in the message;
* a bounded message (stderr under 2,000 characters);
* the elapsed time: under 1 s for problems that can be seen while parsing, under 5 s otherwise
  (in-process cases: the command's CPU time, with its wall time under three times the limit,
  since a 2-core machine running the suite in parallel stalls a process now and then).

Most cases call the Typer app in-process (CliRunner) for speed, but inside a forked child
process with a memory cap and a wall-clock timeout, so an alias bomb or a huge grid that hangs
the current code fails its case instead of hanging the suite.  A handful of cases run the real
console entry point (`python -m simulator`) in a subprocess.
"""

from __future__ import annotations

import contextlib
import csv
import io
import multiprocessing as mp
import os
import re
import resource
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "scenarios" / "quickstart.yaml"
BOOK = ROOT / "simulator" / "billing" / "data" / "aws-us-east-1.yaml"
CATALOG = ROOT / "simulator" / "compute" / "data" / "instance-types.csv"

PARSE = 1.0  # seconds: a problem visible while parsing (issue 7)
OTHER = 5.0  # seconds: any other problem (issue 7)
HANG = 15.0  # seconds after which a case is killed and reported as hanging
WALL_FACTOR = 3.0  # in-process cases: CPU time within the limit, wall time within 3x it
MAX_STDERR = 2000
MB2 = "x" * (2 * 1024 * 1024)


# ------------------------------------------------------------------------------------ harness

# The modules the commands import on first use, imported here once so that every forked child
# inherits them: a case's time is then the command's own work, not the first import (compiled
# from source: CI sets PYTHONDONTWRITEBYTECODE) of the checks, the price book or the sweep
# machinery in whichever worker happens to run it first, which took cases over a second.
WARM = sorted(set(re.findall(r"^\s+from (simulator[\w.]*) import",
                             (ROOT / "simulator" / "cli.py").read_text(), re.M)))
"""The modules simulator/cli.py imports inside its commands."""


@pytest.fixture(scope="module", autouse=True)
def _warm_imports(tmp_path_factory):
    """Import those modules, and validate the quickstart once (the modules other modules
    import on first use, the builtin price book and catalog), before any child is forked."""
    import importlib

    from typer.testing import CliRunner

    for name in ["simulator.cli", *WARM]:
        importlib.import_module(name)
    app = importlib.import_module("simulator.cli").app
    with contextlib.chdir(tmp_path_factory.mktemp("warm")):
        assert CliRunner().invoke(app, ["validate", str(QUICKSTART)]).exit_code == 0



def _memory_cap() -> None:
    """Cap the child's address space (current size + 3 GiB): a bomb fails, the machine lives."""
    try:
        with open("/proc/self/status") as f:
            vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
        cap = vm + 3 * 2**30
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (OSError, ValueError, StopIteration):
        pass


def _child(conn, argv: list[str], cwd: str) -> None:
    start = time.perf_counter()
    try:
        _memory_cap()
        os.chdir(cwd)
        from typer.testing import CliRunner

        from simulator.cli import app

        start, cpu_start = time.perf_counter(), time.process_time()
        result = CliRunner().invoke(app, argv, catch_exceptions=True)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        tb = ""
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            tb = "Traceback (caught by CliRunner):\n" + "".join(
                traceback.format_exception(*result.exc_info))
        out, err = result.stdout, result.stderr
        conn.send({"code": result.exit_code, "stdout": out[:20000], "stderr": err[:20000],
                   "stdout_len": len(out), "stderr_len": len(err), "tb": tb[-4000:],
                   "elapsed": elapsed, "cpu": cpu})
    except BaseException:  # noqa: BLE001 - report anything to the parent
        with contextlib.suppress(BaseException):
            conn.send({"code": None, "stdout": "", "stderr": "", "stdout_len": 0,
                       "stderr_len": 0, "tb": "Traceback (harness):\n" + traceback.format_exc()[-4000:],
                       "elapsed": time.perf_counter() - start})
    finally:
        conn.close()
        os._exit(0)


@dataclass
class Outcome:
    code: int | None
    stdout: str
    stderr: str
    stderr_len: int
    tb: str
    elapsed: float
    hung: bool = False
    cpu: float | None = None
    """CPU seconds of the command (in-process cases): its own work, whatever else the machine
    runs; None for a subprocess (whose time is wall time plus a startup allowance)."""

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


def invoke(argv: list[str], cwd: Path, hang: float = HANG) -> Outcome:
    """Run `dcsim ARGV` in-process (CliRunner) in a forked child; kill it after `hang` s."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, [str(a) for a in argv], str(cwd)))
    start = time.perf_counter()
    proc.start()
    child.close()
    msg = None
    try:
        if parent.poll(hang):
            msg = parent.recv()
    except EOFError:
        msg = None
    if msg is None:
        elapsed = time.perf_counter() - start
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        return Outcome(None, "", "", 0, "", elapsed, hung=elapsed >= hang)
    proc.join(5)
    if proc.is_alive():
        proc.kill()
        proc.join(5)
    return Outcome(msg["code"], msg["stdout"], msg["stderr"], msg["stderr_len"], msg["tb"],
                   msg["elapsed"], cpu=msg.get("cpu"))


def invoke_subprocess(argv: list[str], cwd: Path, hang: float = HANG) -> Outcome:
    """Run the real entry point, `python -m simulator ARGV`, with a timeout."""
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "simulator", *map(str, argv)], cwd=cwd,
                              capture_output=True, text=True, errors="replace", timeout=hang,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    except subprocess.TimeoutExpired:
        return Outcome(None, "", "", 0, "", time.perf_counter() - start, hung=True)
    return Outcome(proc.returncode, proc.stdout, proc.stderr, len(proc.stderr), "",
                   time.perf_counter() - start)


Needle = str | tuple[str, ...]


def check(out: Outcome, needles: tuple[Needle, ...], limit: float | None, code: int = 2) -> None:
    """Assert the issue-7 contract; report every broken part of it at once."""
    if out.hung:
        pytest.fail(f"hung: no answer after {out.elapsed:.1f} s (killed)", pytrace=False)
    problems = []
    if out.tb or "Traceback" in out.text:
        tb = (out.tb or out.text).strip()
        problems.append(f"traceback ending in {tb.splitlines()[-1][:200]!r}:\n{tb[-1500:]}\n")
    if out.code != code:
        problems.append(f"exit code {out.code}, expected {code}")
    if code != 0:
        lowered = out.text.lower()
        for needle in needles:
            options = needle if isinstance(needle, tuple) else (needle,)
            if not any(o.lower() in lowered for o in options):
                problems.append(f"none of {options!r} named in the message")
        if out.stderr_len >= MAX_STDERR:
            problems.append(f"stderr is {out.stderr_len} characters (limit {MAX_STDERR})")
    if limit is not None and out.cpu is not None:
        # the command's CPU time within the limit, and its wall time within 3x (a stall of a
        # shared 2-core machine is not the command's; a command that blocks still fails)
        if out.cpu >= limit or out.elapsed >= WALL_FACTOR * limit:
            problems.append(f"took {out.cpu:.2f} s of CPU, {out.elapsed:.2f} s of wall time "
                            f"(limits {limit:g} s and {WALL_FACTOR * limit:g} s)")
    elif limit is not None and out.elapsed >= limit:
        problems.append(f"took {out.elapsed:.2f} s (limit {limit:g} s)")
    if problems:
        pytest.fail("; ".join(problems) + f"\n--- stdout+stderr (first 1500 chars):\n{out.text[:1500]}",
                    pytrace=False)


# ------------------------------------------------------------------------- input builders


class Raw(str):
    """A YAML fragment written verbatim in place of a value (anchors, aliases, merge keys...)."""


def bomb(levels: int = 9, width: int = 9) -> Raw:
    """A "billion laughs" flow sequence: the last item expands to width**levels strings."""
    items = [f"&a0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        items.append(f"&a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return Raw("[" + ", ".join(items) + "]")


def dump(data: Any) -> str:
    """YAML text of a mapping whose Raw values are written verbatim."""
    raws: dict[str, str] = {}

    def swap(node: Any) -> Any:
        if isinstance(node, Raw):
            key = f"RAWPLACEHOLDER{len(raws)}X"
            raws[key] = str(node)
            return key
        if isinstance(node, dict):
            return {(swap(k) if isinstance(k, Raw) else k): swap(v) for k, v in node.items()}
        if isinstance(node, list):
            return [swap(v) for v in node]
        return node

    text = yaml.safe_dump(swap(data), sort_keys=False, allow_unicode=True, width=10**9)
    for key, raw in raws.items():
        text = text.replace(key, raw)
    return text


def quickstart() -> dict[str, Any]:
    return yaml.safe_load(QUICKSTART.read_text())


_DELETE = object()


def setp(data: dict, dotted: str, value: Any) -> dict:
    """Set (or with _DELETE remove) a dotted path in a nested mapping (list items by index)."""
    parts = dotted.split(".")
    node: Any = data
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    last = parts[-1]
    if value is _DELETE:
        if isinstance(node, list):
            del node[int(last)]
        else:
            node.pop(last, None)
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


def scenario(tmp: Path, changes: dict[str, Any] | None = None, name: str = "scenario.yaml",
             text: Callable[[str], str | bytes] | None = None) -> Path:
    """Write the quickstart with dotted-path changes (then an optional text edit) to tmp/name."""
    data = quickstart()
    for dotted, value in (changes or {}).items():
        setp(data, dotted, value)
    body: str | bytes = dump(data)
    if text is not None:
        body = text(body)
    path = tmp / name
    path.write_bytes(body if isinstance(body, bytes) else body.encode())
    return path


def book(tmp: Path, changes: dict[str, Any] | None = None,
         text: Callable[[str], str | bytes] | None = None) -> Path:
    data = yaml.safe_load(BOOK.read_text())
    data["name"] = "mine"
    for dotted, value in (changes or {}).items():
        node = data
        parts = dotted.split("/")  # instance types contain dots: '/' separates here
        for part in parts[:-1]:
            node = node[part]
        if value is _DELETE:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
    body: str | bytes = dump(data)
    if text is not None:
        body = text(body)
    path = tmp / "book.yaml"
    path.write_bytes(body if isinstance(body, bytes) else body.encode())
    return path


def catalog_rows() -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(CATALOG.read_text()))
    return list(reader.fieldnames or []), list(reader)


def catalog(tmp: Path, row_changes: dict[str, str] | None = None, drop_column: str | None = None,
            raw: str | bytes | None = None, extra: str = "") -> Path:
    """Write a catalog CSV: the builtin one with the m5.xlarge row changed (or raw content)."""
    path = tmp / "cat.csv"
    if raw is not None:
        path.write_bytes(raw if isinstance(raw, bytes) else raw.encode())
        return path
    header, rows = catalog_rows()
    for row in rows:
        if row["name"] == "m5.xlarge":
            row.update(row_changes or {})
    if drop_column:
        header = [c for c in header if c != drop_column]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue() + extra)
    return path


def sweep(tmp: Path, spec: dict[str, Any] | None = None, base_changes: dict[str, Any] | None = None,
          text: Callable[[str], str | bytes] | None = None) -> Path:
    """Write base.yaml (the quickstart) and sweep.yaml (a tiny sweep over it, with changes)."""
    scenario(tmp, base_changes, name="base.yaml")
    data: dict[str, Any] = {"name": "hostile", "base": "base.yaml",
                            "axes": {"fleets.web.count": [8, 9]}, "replications": 1, "seed": 7}
    for key, value in (spec or {}).items():
        if value is _DELETE:
            data.pop(key, None)
        else:
            data[key] = value
    body: str | bytes = dump(data)
    if text is not None:
        body = text(body)
    path = tmp / "sweep.yaml"
    path.write_bytes(body if isinstance(body, bytes) else body.encode())
    return path


def validate(**kw) -> Callable[[Path], list]:
    return lambda tmp: ["validate", scenario(tmp, **kw)]


def validate_test(**kw) -> Callable[[Path], list]:
    return lambda tmp: ["validate", scenario(tmp, **kw), "--test"]


def run_test(changes: dict[str, Any] | None = None, **kw) -> Callable[[Path], list]:
    """`run --test`: the test block is cut to `horizon: 6 min` (so it cannot mask a change)."""
    changes = {"test": {"horizon": "6 min"}, **(changes or {})}
    return lambda tmp: ["run", scenario(tmp, changes, **kw), "--test", "--out", tmp / "out"]


def run_full(extra: list[str] | None = None, **kw) -> Callable[[Path], list]:
    return lambda tmp: ["run", scenario(tmp, **kw), *(extra or []), "--out", tmp / "out"]


def with_set(*sets: str, command: str = "validate") -> Callable[[Path], list]:
    def build(tmp: Path) -> list:
        argv: list[Any] = [command, scenario(tmp)]
        for s in sets:
            argv += ["--set", s]
        if command == "run":
            argv += ["--test", "--out", tmp / "out"]
        return argv
    return build


def with_book(changes=None, scen: dict[str, Any] | None = None, command: str = "validate",
              text=None) -> Callable[[Path], list]:
    def build(tmp: Path) -> list:
        book(tmp, changes, text=text)
        path = scenario(tmp, {"pricebook": "book.yaml", **(scen or {})})
        return ["validate", path] if command == "validate" else \
            ["run", path, "--test", "--out", tmp / "out"]
    return build


def with_catalog(command: str = "validate", **kw) -> Callable[[Path], list]:
    def build(tmp: Path) -> list:
        catalog(tmp, **kw)
        path = scenario(tmp, {"catalog": "cat.csv"})
        return ["validate", path] if command == "validate" else \
            ["run", path, "--test", "--out", tmp / "out"]
    return build


def dry(spec=None, base_changes=None, text=None, extra: list[str] | None = None):
    return lambda tmp: ["sweep", sweep(tmp, spec, base_changes, text), "--dry-run", *(extra or [])]


def real(spec=None, base_changes=None, text=None, extra: list[str] | None = None):
    return lambda tmp: ["sweep", sweep(tmp, spec, base_changes, text), "--test",
                        "--out", tmp / "sweep-out", *(extra or [])]


def replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, f"{old!r} not in the generated YAML"
        return text.replace(old, new, 1)
    return edit


def to_bytes(old: str, new: bytes) -> Callable[[str], bytes]:
    def edit(text: str) -> bytes:
        assert old in text, f"{old!r} not in the generated YAML"
        head, tail = text.split(old, 1)
        return head.encode() + new + tail.encode()
    return edit


# -------------------------------------------------------------------------------------- cases


@dataclass
class Case:
    id: str
    build: Callable[[Path], list]
    needles: tuple[Needle, ...]
    limit: float | None = PARSE
    code: int = 2
    after: Callable[[Path], None] | None = None  # extra checks on tmp_path after the command
    setup: Callable[[Path], None] | None = None  # e.g. chmod; may pytest.skip
    marks: list = field(default_factory=list)


BOMB_WORDS = ("alias", "anchor", "expan", "too large", "size")
SCEN = ("scenario.yaml",)
CASES: list[Case] = []


def case(*args, **kw) -> None:
    CASES.append(Case(*args, **kw))


# --- YAML safety: alias bombs, recursion, merge keys, huge scalars, bytes, tabs, duplicates
case("yaml-bomb-description", validate(changes={"description": bomb()}), (*SCEN,))
case("yaml-bomb-unknown-key", validate(changes={"x_lol": bomb()}), (*SCEN,))
case("yaml-bomb-fleet-count", validate(changes={"fleets.web.count": bomb()}), (*SCEN,))
case("yaml-bomb-arrival-steps", validate(changes={"services.api.arrivals.steps": bomb()}), (*SCEN,))
case("yaml-bomb-test-block-validate", validate(changes={"test": {"horizon": bomb()}}), (*SCEN,))
case("yaml-bomb-test-block-validate-test", validate_test(changes={"test": {"horizon": bomb()}}), (*SCEN,))
case("yaml-bomb-test-block-run-test", run_test(changes={"test": {"description": bomb()}}), (*SCEN,))
case("yaml-bomb-run", run_test(changes={"region.azs": bomb()}), (*SCEN,))
case("yaml-recursive-alias-list", validate(changes={"description": Raw("&r [*r]")}), (*SCEN,))
case("yaml-recursive-alias-mapping",
     validate(changes={"region": Raw("&r {name: us-east-1, azs: [us-east-1a], loop: *r}")}),
     (*SCEN, ("region", "alias")))
case("yaml-recursive-alias-fleet",
     validate(changes={"fleets.web": Raw("&w {instance_type: m5.xlarge, count: 8, sub: *w}")}),
     (*SCEN, ("fleets.web", "alias")))
case("yaml-recursive-alias-run",
     run_test(changes={"services.api.arrivals.steps": Raw("&s [*s]")}),
     (*SCEN, ("services.api.arrivals.steps", "alias")))

MERGE_DIST = {"services.api.service_time": Raw("&st {dist: lognormal, mean: 40 ms, cv: 1.0}"),
              "services.api.response_size": Raw("{<<: *st, mean: 32 KiB}")}
case("merge-legit-distribution", validate(changes=MERGE_DIST), (), code=0)
case("merge-legit-second-fleet",
     validate(changes={"fleets.web": Raw("&web {instance_type: m5.xlarge, count: 8, boot_time: 30 s}"),
                       "fleets.spare": Raw("{<<: *web, count: 1}")}), (), code=0)
case("merge-legit-list-of-mappings",
     validate(changes={"fleets.web": Raw("&web {instance_type: m5.xlarge, count: 8}"),
                       "services.api.load_balancer": Raw("&lb {policy: random}"),
                       "fleets.spare": Raw("{<<: [*web, {boot_time: 10 s}], count: 2}")}), (), code=0)
case("merge-legit-explicit-key-wins",
     validate(changes={"fleets.web": Raw("&web {instance_type: m5.xlarge, count: 8}"),
                       "fleets.spare": Raw("{<<: *web, count: 0, instance_type: m5.large}")}), (), code=0)
case("merge-legit-run-test", run_test(changes=MERGE_DIST), (), code=0, limit=None)
case("merge-illegal-scalar", validate(changes={"fleets.web.volume": Raw("{<<: 5, type: gp3}")}),
     (("<<", "merge"),))
case("merge-illegal-list-of-scalars", validate(changes={"fleets.web.volume": Raw("{<<: [1, 2], type: gp3}")}),
     (("<<", "merge"),))
case("merge-illegal-alias-to-scalar",
     validate(changes={"horizon": Raw("&h 1 h"), "output": Raw("{<<: *h}")}), (("<<", "merge", "output"),))
case("merge-brings-unknown-keys",
     validate(changes={"services.api.service_time": Raw("&st {dist: lognormal, mean: 40 ms, cv: 1.0}"),
                       "services.api.load_balancer": Raw("{<<: *st, policy: random}")}),
     ("services.api.load_balancer",))
case("merge-duplicate-merge-keys",
     validate(changes={"services.api.service_time": Raw("&st {dist: lognormal, mean: 40 ms, cv: 1.0}"),
                       "services.api.response_size": Raw("{<<: *st, <<: *st, mean: 1 KiB}")}),
     (("<<", "merge", "duplicate"),))

case("big-string-name", validate(changes={"name": "has space " + MB2}), ("name",))
# a long name of allowed characters: `run` without --out makes results/NAME, too long a name
case("big-string-name-default-out-run",
     lambda tmp: ["run", scenario(tmp, {"name": MB2, "test": {"horizon": "6 min"}}), "--test"],
     ("name",), limit=OTHER)
case("name-300-chars-default-out-run",
     lambda tmp: ["run", scenario(tmp, {"name": "n" * 300, "test": {"horizon": "6 min"}}), "--test"],
     ("name",), limit=OTHER)
case("big-string-instance-type", validate(changes={"fleets.web.instance_type": MB2}), ("fleets.web.instance_type",))
case("big-string-horizon", validate(changes={"horizon": MB2}), ("horizon",))
case("big-string-unknown-key", validate(changes={MB2: 1}), ("unknown",))
case("big-string-recurrence",
     validate(changes={"fleets.web.scheduled_actions": [{"recurrence": MB2, "desired": 4}]}),
     ("fleets.web.scheduled_actions.0.recurrence",))
case("big-string-set", with_set(f"fleets.web.instance_type={MB2}"), ("fleets.web.instance_type",))
case("big-string-run", run_test(changes={"services.api.slo": MB2}), ("services.api.slo",))

case("non-utf8-description", validate(text=to_bytes("quickstart", b"quick\xff\xfestart")),
     (*SCEN, ("utf-8", "utf8", "decode", "encoding")))
case("non-utf8-run", run_test(text=to_bytes("horizon:", b"hor\xc3\x28izon:")),
     (*SCEN, ("utf-8", "utf8", "decode", "encoding")))
case("binary-garbage", lambda tmp: ["validate", _write(tmp / "scenario.yaml", bytes(range(256)) * 4)],
     (*SCEN,))
case("tab-indentation", validate(text=lambda t: t.replace("\n  ", "\n\t")), (*SCEN, "line"))
case("yaml-impossible-date", validate(changes={"start": Raw("2026-13-45")}), ("start",))
case("yaml-impossible-timestamp", validate(changes={"start": Raw("2026-02-30T25:00:00Z")}), ("start",))
case("set-impossible-date", with_set("start=2026-13-45"), ("start",))
case("set-impossible-date-in-name", with_set("name=2026-13-45T25:00:00Z"), ("name",))
case("duplicate-top-key", validate(text=lambda t: t + "horizon: 2 h\n"), ("horizon", "duplicate"))
case("duplicate-nested-key", validate(text=replace("  web:\n", "  web:\n    count: 3\n")),
     ("count", "duplicate"))


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


# --- numbers: infinite, huge, negative, zero and absurd values
def num(cid: str, dotted: str, value: Any, needle: str | None = None, limit: float | None = PARSE,
        command=validate, **extra) -> None:
    case(cid, command(changes={dotted: value, **extra}), (needle or dotted,), limit=limit)


for vid, v in [("inf", float("inf")), ("neg-inf", float("-inf")), ("1e400", Raw("1.0e+400")),
               ("1e400-s", "1e400 s"), ("nan", float("nan")), ("zero", "0 s"), ("negative", "-1 h"),
               ("inf-h", "inf h")]:
    num(f"horizon-{vid}", "horizon", v)
num("horizon-100-years-run", "horizon", "100 y", limit=OTHER, command=run_full)
num("horizon-100-years-validate", "horizon", "100 y", limit=OTHER)
num("observe-interval-1ns-run", "output.observe_interval", "1 ns", "observe_interval", OTHER, run_test)
num("observe-interval-inf", "output.observe_interval", float("inf"))
num("observe-interval-zero", "output.observe_interval", "0 s")
num("observe-interval-negative", "output.observe_interval", "-1 min")
for vid, v in [("1e9", 10**9), ("1e9-text", "1e9"), ("negative", -1), ("inf", float("inf")),
               ("nan", float("nan")), ("fraction", 2.5), ("huge", 10**30)]:
    num(f"fleet-count-{vid}", "fleets.web.count", v)
num("fleet-count-1e9-run", "fleets.web.count", 10**9, limit=OTHER, command=run_test)
num("min-size-negative", "fleets.web.min_size", -1)
num("max-size-inf", "fleets.web.max_size", float("inf"))
num("max-size-1e9", "fleets.web.max_size", 10**9)
case("min-size-above-max-size", validate(changes={"fleets.web.min_size": 10, "fleets.web.max_size": 5}),
     (("fleets.web.min_size", "fleets.web.max_size", "fleets.web"), "min_size"))
for vid, v in [("inf", float("inf")), ("negative", "-1 s"), ("1e400", "1e400 s"), ("nan", float("nan")),
               ("dist-mean-inf", {"dist": "lognormal", "mean": float("inf"), "cv": 0.2}),
               ("dist-cv-inf", {"dist": "lognormal", "mean": "30 s", "cv": float("inf")})]:
    num(f"boot-time-{vid}", "fleets.web.boot_time", v)
for vid, v in [("1e400", "1e400 GiB"), ("negative", "-1 GiB"), ("zero", 0), ("inf", float("inf")),
               ("absurd", "1000000 PiB")]:
    num(f"volume-size-{vid}", "fleets.web.volume.size", v)
num("volume-size-1e400-run", "fleets.web.volume.size", "1e400 GiB", limit=OTHER, command=run_test)
for vid, v in [("1e400", "1e400/s"), ("inf", float("inf")), ("negative", "-5/s"), ("nan", float("nan")),
               ("inf-text", ".inf/s")]:
    num(f"step-rate-{vid}", "services.api.arrivals.steps.0.rate", v, "services.api.arrivals.steps.0.rate")
for vid, v in [("1e400", "1e400/s"), ("inf", float("inf"))]:
    num(f"poisson-rate-{vid}", "services.api.arrivals", {"process": "poisson", "rate": v},
        "services.api.arrivals.rate")
num("poisson-rate-1e400-run", "services.api.arrivals", {"process": "poisson", "rate": "1e400/s"},
    "services.api.arrivals.rate", OTHER, run_test)
case("ten-million-per-s-over-2000-instances-run",
     run_test(changes={"fleets.web.count": 2000,
                       "services.api.arrivals": {"process": "poisson", "rate": "10000000/s"}}),
     (("estimat", "--force", "rate", "requests"),), limit=OTHER)
for vid, dotted, v in [("cv-inf", "services.api.service_time.cv", float("inf")),
                       ("cv-negative", "services.api.service_time.cv", -1),
                       ("cv-nan", "services.api.service_time.cv", float("nan")),
                       ("mean-negative", "services.api.service_time.mean", "-1 s"),
                       ("mean-inf", "services.api.service_time.mean", "inf s"),
                       ("mean-zero", "services.api.service_time.mean", "0 s"),
                       ("size-mean-1e400", "services.api.response_size.mean", "1e400 KiB")]:
    num(f"dist-{vid}", dotted, v)
num("dist-cv-inf-run", "services.api.service_time.cv", float("inf"), limit=OTHER, command=run_test)
for vid, v in [("inf", float("inf")), ("zero", 0), ("negative", "-1 s"), ("1e400", Raw("1.0e+400"))]:
    num(f"health-check-interval-{vid}", "services.api.load_balancer.health_check", {"interval": v},
        "services.api.load_balancer.health_check.interval")
for vid, v in [("inf", float("inf")), ("negative", "-1 s"), ("1e400", "1e400 s")]:
    num(f"deregistration-delay-{vid}", "services.api.load_balancer.deregistration_delay", v)
for vid, v in [("negative", -1), ("1e30", 10**30), ("inf", float("inf")), ("text", "abc")]:
    num(f"scenario-seed-{vid}", "seed", v)
for vid, v in [("negative", -1), ("1e9", 10**9), ("inf", float("inf")), ("text", "many")]:
    num(f"scheduled-desired-{vid}", "fleets.web.scheduled_actions", [{"at": "10 min", "desired": v}],
        "fleets.web.scheduled_actions.0.desired")
num("scheduled-at-inf", "fleets.web.scheduled_actions", [{"at": float("inf"), "desired": 4}],
    "fleets.web.scheduled_actions.0.at")
for vid, v in [("words", "every day"), ("out-of-range", "99 99 * * *"), ("seven-fields", "* * * * * * *"),
               ("empty", ""), ("bad-weekday", "0 8 * * FOO"), ("never-fires", "0 8 31 2 *"),
               ("number", 5)]:
    num(f"cron-{vid}", "fleets.web.scheduled_actions", [{"recurrence": v, "desired": 4}],
        "fleets.web.scheduled_actions.0.recurrence")
case("cron-never-fires-run",
     run_test(changes={"fleets.web.scheduled_actions": [{"recurrence": "0 8 30 2 *", "desired": 4}]}),
     ("fleets.web.scheduled_actions.0.recurrence",), limit=OTHER)

# --- --set overrides
case("set-horizon-inf", with_set("horizon=.inf"), ("horizon",))
case("set-horizon-1e400", with_set("horizon=1e400 s"), ("horizon",))
case("set-count-1e9", with_set("fleets.web.count=1000000000"), ("fleets.web.count",))
case("set-count-1e9-text", with_set("fleets.web.count=1e9"), ("fleets.web.count",))
case("set-seed-negative", with_set("seed=-1"), ("seed",))
case("set-rate-inf", with_set("services.api.arrivals.steps.0.rate=.inf"), ("services.api.arrivals.steps.0.rate",))
case("set-volume-1e400", with_set("fleets.web.volume.size=1e400 GiB"), ("fleets.web.volume.size",))
case("set-no-equals", with_set("fleets.web.count"), ("--set",))
case("set-empty-key", with_set("=5"), ("--set",))
case("set-empty-segment", with_set("fleets..count=1"), ("fleets..count",))
case("set-inside-scalar", with_set("fleets.web.count.x=1"), ("fleets.web.count",))
case("set-index-out-of-range", with_set("services.api.arrivals.steps.99.rate=1/s"), ("steps",))
case("set-negative-index", with_set("services.api.arrivals.steps.-1.rate=1/s"), ("steps",))
case("set-duplicate-keys", with_set("fleets.web.volume={size: 1 GiB, size: 2 GiB}"),
     (("duplicate", "fleets.web.volume"),))
case("set-yaml-syntax-error", with_set("fleets.web.volume={size: [1"), ("fleets.web.volume",))
case("set-alias-bomb", with_set(f"description={bomb()}"), (("description", "--set"),))
case("set-horizon-inf-run", with_set("horizon=.inf", command="run"), ("horizon",))
case("set-unknown-path-run", with_set("fleets.web.colour=red", command="run"), ("fleets.web.colour",))

# --- price books
PB = ("book.yaml",)
ODL = "ec2/on_demand/linux/m5.xlarge"
case("pricebook-alias-bomb-price", with_book({ODL: bomb()}), (*PB,))
case("pricebook-alias-bomb-source-note", with_book({"ec2/sources/on_demand/note": bomb()}), (*PB,))
case("pricebook-alias-bomb-run", with_book({"name": bomb()}, command="run"), (*PB,))
case("pricebook-recursive-alias", with_book({"ec2/on_demand/linux": Raw("&l {m5.xlarge: 0.19, x: *l}")}), (*PB,))
case("pricebook-negative-price", with_book({ODL: -0.1}), (*PB, "m5.xlarge"))
case("pricebook-inf-price", with_book({ODL: float("inf")}), (*PB, "m5.xlarge"))
case("pricebook-nan-price", with_book({ODL: float("nan")}), (*PB, "m5.xlarge"))
case("pricebook-1e400-price", with_book({ODL: Raw("1.0e+400")}), (*PB, "m5.xlarge"))
case("pricebook-1e400-price-text", with_book({ODL: "$1e400/h"}), (*PB, "m5.xlarge"))
case("pricebook-missing-ebs", with_book({"ebs": _DELETE}), (*PB, "ebs"))
case("pricebook-missing-ebs-default-volume", with_book({"ebs": _DELETE}, scen={"fleets.web.volume": _DELETE}),
     (*PB, "ebs"))
case("pricebook-missing-ebs-run", with_book({"ebs": _DELETE}, command="run"), (*PB, "ebs"))
case("pricebook-no-ebs-no-volume-ok", with_book({"ebs": _DELETE}, scen={"fleets.web.volume": None}), (), code=0)
case("pricebook-missing-data-transfer", with_book({"data_transfer": _DELETE}), (*PB, "data_transfer"))
case("pricebook-missing-data-transfer-run", with_book({"data_transfer": _DELETE}, command="run"),
     (*PB, "data_transfer"))
case("pricebook-missing-gp3", with_book({"ebs/volumes": {"gp2": {"usd_per_gb_month": 0.1}}}), (*PB, "gp3"))
case("pricebook-missing-type", with_book({ODL: _DELETE}), ("m5.xlarge",))
case("pricebook-ebs-negative", with_book({"ebs/volumes/gp3/usd_per_gb_month": -0.08}), (*PB, "ebs"))
case("pricebook-ebs-inf", with_book({"ebs/volumes/gp3/usd_per_gb_month": float("inf")}), (*PB, "ebs"))
case("pricebook-transfer-inf",
     with_book({"data_transfer/internet_out": [{"up_to": None, "usd_per_gb": float("inf")}]}),
     (*PB, "data_transfer"))
case("pricebook-transfer-negative",
     with_book({"data_transfer/internet_out": [{"up_to": None, "usd_per_gb": -0.09}]}), (*PB, "data_transfer"))
case("pricebook-granularity-zero", with_book({"ec2/billing/linux": {"granularity": "0 s", "minimum": "60 s"}}),
     (*PB, "granularity"))
case("pricebook-granularity-inf", with_book({"ec2/billing/linux": {"granularity": float("inf"), "minimum": "60 s"}}),
     (*PB, "granularity"))
case("pricebook-minimum-inf", with_book({"ec2/billing/linux": {"granularity": "1 s", "minimum": float("inf")}}),
     (*PB, "minimum"))
case("pricebook-non-utf8", with_book(text=to_bytes("name: mine", b"name: m\xffine")), (*PB,))
case("pricebook-not-a-mapping", with_book(text=lambda t: "- a\n- b\n"), (*PB,))
case("pricebook-duplicate-key", with_book(text=lambda t: t + "currency: USD\n"), (*PB, "duplicate"))
case("pricebook-big-string", with_book({"currency": MB2}), (*PB, "currency"))
case("pricebook-tabs", with_book(text=lambda t: t.replace("\n  ", "\n\t", 3)), (*PB,))

# --- catalogs
CAT = ("cat.csv",)
for vid, v in [("zero", "0"), ("1e9", "1000000000"), ("negative", "-4"), ("fraction", "4.5"), ("inf", "inf")]:
    case(f"catalog-vcpus-{vid}", with_catalog(row_changes={"vcpus": v}), (*CAT, "vcpus"))
for vid, v in [("negative", "-16"), ("zero", "0"), ("inf", "inf"), ("nan", "nan"), ("1e400", "1e400"),
               ("absurd", "1e12")]:
    case(f"catalog-memory-{vid}", with_catalog(row_changes={"memory_gib": v}), (*CAT, "memory_gib"))
case("catalog-gpus-1e9", with_catalog(row_changes={"gpus": "1000000000"}), (*CAT, "gpus"))
for vid, v in [("words", "yesterday"), ("impossible", "2026-13-45"), ("zeros", "0000-00-00")]:
    case(f"catalog-date-{vid}", with_catalog(row_changes={"date": v}), (*CAT, "date"))
case("catalog-missing-vcpus-column", with_catalog(drop_column="vcpus"), (*CAT, "vcpus"))
case("catalog-missing-date-column", with_catalog(drop_column="date"), (*CAT, "date"))
case("catalog-extra-fields", with_catalog(extra="m9.huge,m,huge,4,16,x86_64,0,me,2026-01-01,surplus\n"),
     (*CAT, "row"))
case("catalog-empty", with_catalog(raw=""), (*CAT,))
case("catalog-header-only", with_catalog(raw=",".join(catalog_rows()[0]) + "\n"), (*CAT,))
case("catalog-non-utf8", with_catalog(raw=b"name,family\n\xff\xfe\n"), (*CAT,))
case("catalog-big-field", with_catalog(row_changes={"name": MB2}), (*CAT,))
case("catalog-duplicate-type", with_catalog(
    extra="m5.xlarge,m,xlarge,4,16,x86_64,0,me,2026-01-01\n"), (*CAT, "duplicate"))
case("catalog-missing-file", lambda tmp: ["validate", scenario(tmp, {"catalog": "cat.csv"})], (*CAT,))
case("catalog-vcpus-1e9-run", with_catalog(command="run", row_changes={"vcpus": "1000000000"}),
     (*CAT, "vcpus"), limit=OTHER)

# --- sweep files
SW = ("sweep.yaml",)
case("sweep-axis-seed", dry({"axes": {"seed": [1, 2, 3]}}), ("seed",))
case("sweep-zip-seed", dry({"axes": {}, "zip": [{"seed": [1, 2], "fleets.web.count": [8, 9]}]}), ("seed",))
case("sweep-axis-unknown-field", dry({"axes": {"fleets.web.colour": ["red", "blue"]}}), ("fleets.web.colour",))
case("sweep-axis-empty", dry({"axes": {"fleets.web.count": []}}), ("fleets.web.count",))
case("sweep-axis-not-a-list", dry({"axes": {"fleets.web.count": 5}}), ("fleets.web.count",))
case("sweep-axis-inf-value", dry({"axes": {"horizon": [float("inf"), "1 h"]}}), ("horizon",))
case("sweep-axis-count-1e9", dry({"axes": {"fleets.web.count": [8, 10**9]}}), ("fleets.web.count",))
for vid, v in [("zero", 0), ("negative", -1), ("inf", float("inf")), ("text", "many")]:
    case(f"sweep-replications-{vid}", dry({"replications": v}), ("replications",))
case("sweep-replications-1e9-real", real({"replications": 10**9, "test": {}}),
     (("replications", "estimat", "runs"),), limit=OTHER)
HUGE_AXES = {"fleets.web.count": list(range(1, 101)),
             "services.api.slo": [f"{i} ms" for i in range(1, 101)],
             "output.observe_interval": [f"{i} s" for i in range(1, 101)],
             "fleets.web.volume.size": [f"{i} GiB" for i in range(1, 101)],
             "services.api.load_balancer.deregistration_delay": [f"{i} s" for i in range(1, 101)]}
case("sweep-grid-1e10-cells-dry", dry({"axes": HUGE_AXES}), (("cells", "grid", "runs", "axes", "estimat"),),
     limit=OTHER)
case("sweep-grid-1e10-cells-real", real({"axes": HUGE_AXES, "test": {}}),
     (("cells", "grid", "runs", "axes", "estimat"),), limit=OTHER)
case("sweep-alias-bomb-description", dry({"description": bomb()}), (*SW,))
case("sweep-alias-bomb-axis-values", dry({"axes": {"fleets.web.count": bomb()}}), (*SW,))
case("sweep-alias-bomb-test-block", lambda tmp: ["sweep", sweep(tmp, {"test": {"description": bomb()}}),
                                                 "--dry-run", "--test"], (*SW,))
case("sweep-alias-bomb-in-base", dry(base_changes={"description": bomb()}), ("base.yaml",))
case("sweep-recursive-alias", dry({"set": Raw("&s {horizon: 1 h, loop: *s}")}), (("sweep.yaml", "set"),))
case("sweep-set-inf", dry({"set": {"horizon": float("inf")}}), ("horizon",))
case("sweep-zip-unequal", dry({"axes": {}, "zip": [{"fleets.web.count": [8, 9], "services.api.slo": ["1 s"]}]}),
     ("zip",))
case("sweep-baseline-unknown-axis", dry({"baseline": {"fleets.web.colour": "red"}}), ("baseline",))
case("sweep-goal-unknown-metric", dry({"goal": {"minimize": "cost.nonsense"}}), ("goal",))
case("sweep-base-missing", dry({"base": "missing.yaml"}), ("missing.yaml",))
case("sweep-base-is-itself", dry({"base": "sweep.yaml"}), (*SW,))
case("sweep-non-utf8", dry(text=to_bytes("hostile", b"host\xffile")), (*SW,))
case("sweep-duplicate-key", dry(text=lambda t: t + "replications: 2\n"), ("replications", "duplicate"))
case("sweep-seed-negative", dry({"seed": -1}), ("seed",))
case("sweep-seed-1e30", dry({"seed": 10**30}), ("seed",))
case("sweep-test-replications-zero", lambda tmp: ["sweep", sweep(tmp, {"test": {"replications": 0}}),
                                                  "--dry-run", "--test"], ("replications",))
case("sweep-big-string-name", dry({"name": "has space " + MB2}), ("name",))
case("sweep-merge-legit", dry({"set": Raw("&s {horizon: 2 min}"), "test": Raw("{set: {<<: *s}}")}), (), code=0)
case("sweep-tiny-real-ok", real({"axes": {}, "set": {"horizon": "2 min"}}), (), code=0, limit=None)

# --- CLI flags
case("flag-jobs-zero", real(extra=["--jobs", "0"]), ("--jobs",))
case("flag-jobs-negative", real(extra=["--jobs", "-1"]), ("--jobs",))
case("flag-jobs-1e9", real(extra=["--jobs", "1000000000"]), ("--jobs",), limit=OTHER)
case("flag-jobs-text", real(extra=["--jobs", "many"]), ("--jobs",))
case("flag-executor-bogus", real(extra=["--executor", "bogus"]), ("--executor",))
case("flag-executor-empty", real(extra=["--executor", ""]), ("--executor",))
RUN_ARGS = ["--set", "horizon=8 h"]  # a long run: a check made only after it would miss 5 s
case("flag-seed-negative", run_full(["--seed", "-1"]), ("--seed",))
case("flag-seed-1e30", run_full(["--seed", str(10**30)]), ("--seed",))
case("flag-seed-float", run_full(["--seed", "1e30"]), ("--seed",))
case("flag-seed-text", run_full(["--seed", "abc"]), ("--seed",))


def out_case(cid: str, target: Callable[[Path], Path], after=None, setup=None, command="run") -> None:
    def build(tmp: Path) -> list:
        if command == "run":
            return ["run", scenario(tmp), *RUN_ARGS, "--out", target(tmp)]
        return ["sweep", sweep(tmp, {"axes": {}, "set": {"horizon": "8 h"}}), "--out", target(tmp)]
    case(cid, build, ("--out",), limit=OTHER, after=after, setup=setup)


def _file(tmp: Path) -> Path:
    (tmp / "taken.txt").write_text("mine\n")
    return tmp / "taken.txt"


def _foreign(tmp: Path) -> Path:
    (tmp / "mine").mkdir(exist_ok=True)
    (tmp / "mine" / "notes.txt").write_text("precious\n")
    return tmp / "mine"


def _kept(rel: str, content: str) -> Callable[[Path], None]:
    def after(tmp: Path) -> None:
        assert (tmp / rel).is_file() and (tmp / rel).read_text() == content, f"{rel} was changed or removed"
    return after


def _read_only(tmp: Path) -> None:
    ro = tmp / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if os.access(ro, os.W_OK):
        ro.chmod(0o755)
        pytest.skip("running as root: a read-only folder stays writable")


out_case("out-existing-file", _file, after=_kept("taken.txt", "mine\n"))
out_case("out-under-a-file", lambda tmp: _file(tmp) / "run")
out_case("out-dev-null", lambda tmp: Path("/dev/null"))
out_case("out-under-dev-null", lambda tmp: Path("/dev/null/run"))
out_case("out-name-too-long", lambda tmp: tmp / ("x" * 300))
out_case("out-nested-name-too-long", lambda tmp: tmp / "a" / ("é" * 200) / "run")
out_case("out-read-only-folder", lambda tmp: tmp / "ro" / "run", setup=_read_only)
out_case("out-foreign-folder", _foreign, after=_kept("mine/notes.txt", "precious\n"))
def _scenario_kept(tmp: Path) -> None:
    assert yaml.safe_load((tmp / "scenario.yaml").read_text())["name"] == "quickstart", "scenario overwritten"


out_case("out-is-the-scenario-file", lambda tmp: tmp / "scenario.yaml", after=_scenario_kept)
out_case("sweep-out-existing-file", _file, after=_kept("taken.txt", "mine\n"), command="sweep")
out_case("sweep-out-dev-null", lambda tmp: Path("/dev/null"), command="sweep")
out_case("sweep-out-under-a-file", lambda tmp: _file(tmp) / "sweep", command="sweep")
out_case("sweep-out-foreign-folder", _foreign, after=_kept("mine/notes.txt", "precious\n"), command="sweep")


# --- dcsim report on corrupt or partial folders
def _report(edit: Callable[[Path], None], kind: str = "run") -> Callable[[Path], list]:
    def build(tmp: Path) -> list:
        source = _FOLDERS[kind]  # made by the `folders` fixture, which fails if it cannot
        folder = tmp / f"{kind}-folder"
        shutil.copytree(source, folder)
        edit(folder)
        return ["report", folder]
    return build


def _truncate(rel: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        path = folder / rel
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    return edit


def _write_rel(rel: str, content: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / rel).write_bytes(content)


case("report-corrupt-summary", _report(_write_rel("summary.json", b'{"latency": {"p99_s": 0.1,')),
     ("summary.json",), limit=OTHER)
case("report-empty-summary", _report(_write_rel("summary.json", b"")), ("summary.json",), limit=OTHER)
case("report-summary-is-a-list", _report(_write_rel("summary.json", b"[1, 2, 3]")), ("summary.json",),
     limit=OTHER)
case("report-summary-non-utf8", _report(_write_rel("summary.json", b'{"name": "\xff"}')), ("summary.json",),
     limit=OTHER)
case("report-truncated-latency-table", _report(_truncate("tables/latency.parquet")), ("latency.parquet",),
     limit=OTHER)
case("report-truncated-cost-table", _report(_truncate("tables/cost.parquet")), ("cost.parquet",), limit=OTHER)
case("report-empty-intervals-table", _report(_write_rel("tables/instance_intervals.parquet", b"")),
     ("instance_intervals.parquet",), limit=OTHER)
case("report-missing-tables", _report(lambda f: shutil.rmtree(f / "tables")), ("tables",), limit=OTHER)
case("report-corrupt-sweep-json", _report(_write_rel("sweep.json", b"{not json"), kind="sweep"),
     ("sweep.json",), limit=OTHER)
case("report-truncated-runs-table", _report(_truncate("runs.parquet"), kind="sweep"), ("runs.parquet",),
     limit=OTHER)
case("report-not-a-folder", lambda tmp: ["report", _file(tmp)], ("taken.txt",))

_FOLDERS: dict[str, Path] = {}


@pytest.fixture(scope="module", autouse=True)
def folders(tmp_path_factory):
    """A real run folder and a real sweep folder (made once) for the report cases to corrupt."""
    base = tmp_path_factory.mktemp("hostile-folders")
    # Warm this (parent) process: forked children then time the command, not first imports.
    # The warm-up run is a valid tiny scenario, so it is run here in-process.
    from typer.testing import CliRunner

    from simulator.cli import app

    runner = CliRunner()
    runner.invoke(app, ["validate", str(QUICKSTART)])
    for module in ("simulator.results", "simulator.report", "simulator.report.sweep",
                   "simulator.experiments.runner", "simulator.experiments.executors",
                   "simulator.experiments.spec", "croniter"):
        __import__(module)
    run_scenario = scenario(base, {"test": {**quickstart()["test"], "horizon": "2 min"}})
    result = runner.invoke(app, ["run", str(run_scenario), "--test", "--out", str(base / "run")])
    assert result.exit_code == 0 and (base / "run" / "summary.json").is_file(), result.output
    _FOLDERS["run"] = base / "run"
    runner.invoke(app, ["report", str(base / "run")])  # warm the report path too
    sw = sweep(base, {"axes": {}, "set": {"horizon": "2 min"}})
    out = invoke(["sweep", sw, "--test", "--out", base / "sweep"], base, hang=120)
    assert out.code == 0 and (base / "sweep" / "sweep.json").is_file(), out.stderr
    _FOLDERS["sweep"] = base / "sweep"
    yield _FOLDERS
    _FOLDERS.clear()


assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_hostile_input(c: Case, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    try:
        if c.setup:
            c.setup(work)
        argv = c.build(work)
        out = invoke(argv, work)
    finally:
        ro = work / "ro"
        if ro.exists():
            ro.chmod(0o755)
    check(out, c.needles, c.limit, c.code)
    if c.after:
        c.after(work)


# --- the real console entry point, end to end (a handful)


@pytest.fixture(scope="module")
def startup() -> float:
    """Seconds `python -m simulator validate` takes on a valid scenario (interpreter + imports)."""
    times = []
    for _ in range(2):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "simulator", "validate", str(QUICKSTART)], cwd=ROOT,
                       capture_output=True, timeout=60)
        times.append(time.perf_counter() - start)
    return min(times)


SUBPROCESS_CASES = [
    Case("subprocess-alias-bomb", validate(changes={"description": bomb()}), (*SCEN,)),
    Case("subprocess-recursive-alias", validate(changes={"description": Raw("&r [*r]")}), (*SCEN,)),
    Case("subprocess-non-utf8", validate(text=to_bytes("quickstart", b"quick\xffstart")), (*SCEN,)),
    Case("subprocess-observe-interval-inf-run", run_test(changes={"output.observe_interval": float("inf")}),
         ("observe_interval",)),
    Case("subprocess-out-dev-null", lambda tmp: ["run", scenario(tmp), *RUN_ARGS, "--out", "/dev/null"],
         ("--out",), limit=OTHER),
    Case("subprocess-sweep-seed-axis", dry({"axes": {"seed": [1, 2]}}), ("seed",)),
    Case("subprocess-jobs-zero", real(extra=["--jobs", "0"]), ("--jobs",)),
    Case("subprocess-pricebook-missing-ebs", with_book({"ebs": _DELETE}), ("ebs",)),
    Case("subprocess-report-corrupt-summary", _report(_write_rel("summary.json", b"{oops")), ("summary.json",),
         limit=OTHER),
]


@pytest.mark.parametrize("c", SUBPROCESS_CASES, ids=[c.id for c in SUBPROCESS_CASES])
def test_hostile_input_console(c: Case, tmp_path: Path, startup: float) -> None:
    """Through the real entry point. The time limit is the issue's 5 s plus the interpreter
    startup: starting Python and importing a command's modules takes 1-2 s (more for a sweep),
    so the 1 s parse-time limits are asserted by the in-process cases."""
    work = tmp_path / "work"
    work.mkdir()
    argv = c.build(work)
    out = invoke_subprocess(argv, work)
    # startup is measured once, on a quiet moment; under the suite's parallel load a process
    # start can take twice that, which is not the command's doing
    check(out, c.needles, None if c.limit is None else OTHER + 2 * startup, c.code)
