"""The instance catalog: which EC2 instance types exist and what each one offers.

The builtin catalog is real us-east-1 data shipped as a versioned CSV
(``simulator/compute/data/instance-types.csv``) whose every row names its source and date.
A user may point a scenario at a CSV of their own with the same columns::

    name,family,size,vcpus,memory_gib,arch,gpus,source,date

``family`` is the instance family letter of AWS's naming convention ("m" for m5.large, "c" for
c7g.xlarge); the part of the name before the dot ("m5", "c7g") is ``InstanceType.prefix``, what
reserved-instance size flexibility and Karpenter call the family.  Memory is read in GiB and kept
in bytes.  Malformed files raise ``InputError`` naming the row (the file's line number, header =
row 1) and the column.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import functools
import io
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from simulator.errors import InputError, Problem
from simulator.limits import MAX_GPUS, MAX_MEMORY_GIB, MAX_VCPUS
from simulator.units import GIB, HOUR, Bytes

if TYPE_CHECKING:
    from simulator.billing.pricebook import PriceBook

COLUMNS = ("name", "family", "size", "vcpus", "memory_gib", "arch", "gpus", "source", "date")
ARCHES = ("x86_64", "arm64")
BUILTIN = "instance-types.csv"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class InstanceType:
    """One instance type: its shape (vCPUs, memory, GPUs, architecture) and where that came from."""

    name: str
    family: str
    size: str
    vcpus: int
    memory_bytes: Bytes
    arch: str
    gpus: int
    source: str
    date: str

    @property
    def prefix(self) -> str:
        """The name before the dot ("m5", "m6i", "t4g"): the family in the RI/Karpenter sense."""
        return self.name.split(".", 1)[0]

    @property
    def memory_gib(self) -> float:
        """Memory in GiB, for display."""
        return self.memory_bytes / GIB


@dataclass(frozen=True)
class Catalog:
    """An immutable set of instance types, looked up by name."""

    types: tuple[InstanceType, ...]
    _by_name: dict[str, InstanceType] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "types", tuple(self.types))
        object.__setattr__(self, "_by_name", {t.name: t for t in self.types})
        if len(self._by_name) != len(self.types):
            raise ValueError("instance type names in a catalog must be unique")

    def get(self, name: str) -> InstanceType:
        """The type called name; KeyError (with close names suggested) if there is none."""
        try:
            return self._by_name[name]
        except KeyError:
            close = difflib.get_close_matches(str(name), self.names(), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise KeyError(f"unknown instance type {name!r}{hint}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self.types)

    def __iter__(self):
        return iter(self.types)

    def names(self) -> list[str]:
        """Every type name, in file order."""
        return [t.name for t in self.types]

    def filter(
        self,
        family: str | None = None,
        min_vcpu: int | None = None,
        min_memory_gib: float | None = None,
        arch: str | None = None,
    ) -> list[InstanceType]:
        """Types matching every given criterion, sorted by family, then vCPUs, then name.

        ``family`` matches either the family letter ("m") or the name prefix ("m5").
        """
        found = [
            t
            for t in self.types
            if (family is None or family in (t.family, t.prefix))
            and (min_vcpu is None or t.vcpus >= min_vcpu)
            and (min_memory_gib is None or t.memory_bytes >= min_memory_gib * GIB)
            and (arch is None or t.arch == arch)
        ]
        return sorted(found, key=lambda t: (t.family, t.vcpus, t.name))


def _whole(text: str, low: int, high: int) -> int:
    text = text.strip()
    if len(text) > 12:
        raise ValueError
    value = int(text)
    if not low <= value <= high:
        raise ValueError
    return value


def _real_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _row_type(row: dict[str, str], where: str, problems: list[Problem]) -> InstanceType | None:
    """Check one CSV row; append its problems and return the type when the row is sound."""
    before = len(problems)
    text = {k: (row.get(k) or "").strip() for k in COLUMNS}

    def bad(column: str, message: str) -> None:
        problems.append(Problem(f"{where}.{column}", message, row.get(column)))

    name, family, size = text["name"], text["family"], text["size"]
    if not re.fullmatch(r"[a-z0-9-]+\.[a-z0-9-]+", name):
        bad("name", "must look like 'm5.large' (family and size joined by a dot)")
    else:
        if not family or not name.startswith(family):
            bad("family", f"must be the start of the name, e.g. {name[0]!r}")
        if size != name.split(".", 1)[1]:
            bad("size", f"must be the part of the name after the dot ({name.split('.', 1)[1]!r})")
    numbers: dict[str, float] = {}
    for column, low, high in (("vcpus", 1, MAX_VCPUS), ("gpus", 0, MAX_GPUS)):
        try:
            numbers[column] = _whole(text[column], low, high)
        except ValueError:
            bad(column, f"must be a whole number from {low} to {high}")
    try:
        numbers["memory_gib"] = float(text["memory_gib"])
        if not 0 < numbers["memory_gib"] <= MAX_MEMORY_GIB:
            raise ValueError
    except ValueError:
        bad("memory_gib", f"must be a number of GiB above 0 and at most {MAX_MEMORY_GIB:g}")
    if text["arch"] not in ARCHES:
        bad("arch", f"must be one of {', '.join(ARCHES)}")
    if not text["source"]:
        bad("source", "must say where the row's numbers come from")
    if not _real_date(text["date"]):
        bad("date", "must be a real date written YYYY-MM-DD")
    if len(problems) > before:
        return None
    return InstanceType(
        name=name,
        family=family,
        size=size,
        vcpus=int(numbers["vcpus"]),
        memory_bytes=numbers["memory_gib"] * GIB,
        arch=text["arch"],
        gpus=int(numbers["gpus"]),
        source=text["source"],
        date=text["date"],
    )


@functools.lru_cache(maxsize=32)
def parse_catalog(text: str, source: str) -> Catalog:
    """Build a catalog from CSV text; source names the file in error messages."""
    try:
        return _parse_catalog(text, source)
    except csv.Error as exc:
        raise InputError(source, [Problem("", f"not a readable CSV file ({exc}); each field must "
                                          "be a short value")]) from None


def _parse_catalog(text: str, source: str) -> Catalog:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    problems = [Problem("header", f"missing column {c!r}") for c in COLUMNS if c not in header]
    problems += [
        Problem("header", f"unknown column {c!r}; columns are {', '.join(COLUMNS)}")
        for c in header
        if c not in COLUMNS
    ]
    if problems:
        raise InputError(source, problems)
    types: list[InstanceType] = []
    first_row: dict[str, int] = {}
    for row in reader:
        where = f"row {reader.line_num}"
        if None in row:
            problems.append(Problem(where, f"has more than {len(header)} fields"))
            continue
        itype = _row_type(row, where, problems)
        if itype is None:
            continue
        if itype.name in first_row:
            problems.append(
                Problem(
                    f"{where}.name",
                    f"duplicate instance type; first defined in row {first_row[itype.name]}",
                    itype.name,
                )
            )
            continue
        first_row[itype.name] = reader.line_num
        types.append(itype)
    if not types and not problems:
        problems.append(Problem("", "the catalog has no instance types"))
    if problems:
        raise InputError(source, problems)
    return Catalog(tuple(types))


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load a catalog CSV; None loads the builtin us-east-1 catalog shipped with dcsim."""
    if path is None:
        resource = resources.files("simulator.compute").joinpath("data", BUILTIN)
        return parse_catalog(resource.read_text(encoding="utf-8"), str(resource))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(str(path), [Problem("", "no such catalog file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), [Problem("", f"cannot read the catalog: {exc}")]) from None
    return parse_catalog(text, str(path))


def format_catalog(types, book: PriceBook | None = None, os: str = "linux") -> str:
    """A plain text table of instance types, one per line beginning with its name.

    With a price book, a last column shows the on-demand price for os in $/h ("–" if unpriced).
    """
    types = list(types)
    width = max([len("name")] + [len(t.name) for t in types])
    head = f"{'name':<{width}}  {'family':<6} {'vCPU':>9} {'memory':>11}  {'arch':<7} {'GPU':>4}"
    lines = [head + ("  on-demand" if book is not None else "")]
    for t in types:
        memory = f"{t.memory_gib:.2f}".removesuffix("0")  # 8.0, 15.25, 30.5
        line = (
            f"{t.name:<{width}}  {t.family:<6} {t.vcpus:>4} vCPU {memory:>7} GiB"
            f"  {t.arch:<7} {t.gpus:>4}"
        )
        if book is not None:
            if book.has_on_demand(t.name, os):
                line += f"  ${book.on_demand_usd_per_s(t.name, os) * HOUR:.4f}/h"
            else:
                line += "  –"
        lines.append(line)
    return "\n".join(lines)
