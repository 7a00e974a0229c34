"""The instance catalog: builtin data, lookups, filters, and errors for malformed files."""

from __future__ import annotations

import pytest

from simulator.billing.pricebook import load_pricebook
from simulator.compute.catalog import COLUMNS, Catalog, InstanceType, format_catalog, load_catalog
from simulator.errors import InputError
from simulator.units import GIB

HEADER = ",".join(COLUMNS)
GOOD_ROW = "m5.large,m,large,2,8,x86_64,0,test,2025-06-28"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def write(tmp_path, *lines: str):
    path = tmp_path / "types.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_builtin_catalog_covers_the_families(catalog):
    assert len(catalog) >= 25
    assert {t.family for t in catalog} >= {"t", "m", "c", "r", "i", "g", "p"}
    for t in catalog:
        assert t.source and t.date
        assert t.vcpus > 0 and t.memory_bytes > 0


def test_builtin_catalog_matches_the_reference_table(catalog):
    m5 = catalog.get("m5.large")
    assert (m5.family, m5.size, m5.vcpus, m5.memory_bytes, m5.arch, m5.gpus) == (
        "m", "large", 2, 8 * GIB, "x86_64", 0)
    assert m5.prefix == "m5"
    assert catalog.get("i3.large").memory_bytes == 15.25 * GIB
    assert catalog.get("t4g.medium").arch == "arm64"
    gpus = {n: catalog.get(n).gpus for n in
            ("g4dn.xlarge", "g5.xlarge", "p3.2xlarge", "p4d.24xlarge", "p5.48xlarge")}
    assert gpus == {"g4dn.xlarge": 1, "g5.xlarge": 1, "p3.2xlarge": 1, "p4d.24xlarge": 8,
                    "p5.48xlarge": 8}
    assert (catalog.get("p5.48xlarge").vcpus, catalog.get("p5.48xlarge").memory_gib) == (192, 2048)


def test_contains_and_names(catalog):
    assert "m5.large" in catalog
    assert "m5.huge" not in catalog
    assert catalog.names()[0] == "t3.micro"
    assert len(set(catalog.names())) == len(catalog)


def test_unknown_name_suggests_close_names(catalog):
    with pytest.raises(KeyError, match=r"m5\.large"):
        catalog.get("m5.larg")


def test_filter(catalog):
    arm = catalog.filter(arch="arm64")
    assert arm and all(t.arch == "arm64" for t in arm)
    big = catalog.filter(family="m", min_vcpu=4, min_memory_gib=16)
    assert big and all(t.family == "m" and t.vcpus >= 4 and t.memory_gib >= 16 for t in big)
    assert [t.name for t in catalog.filter(family="m5")] == ["m5.large", "m5.xlarge", "m5.2xlarge"]
    everything = catalog.filter()
    assert len(everything) == len(catalog)
    assert everything == sorted(everything, key=lambda t: (t.family, t.vcpus, t.name))
    assert catalog.filter(min_vcpu=1000) == []


def test_format_catalog_one_line_per_type_beginning_with_its_name(catalog):
    types = catalog.filter(family="m5")
    text = format_catalog(types, load_pricebook())
    lines = text.splitlines()
    assert len(lines) == 1 + len(types)
    assert lines[1].startswith("m5.large ")
    assert "$0.0960/h" in lines[1]
    assert "8.0 GiB" in lines[1] and "2 vCPU" in lines[1]
    assert "$" not in format_catalog(types)


def test_catalog_from_a_user_file(tmp_path):
    path = write(tmp_path, HEADER, GOOD_ROW, "x9.huge,x,huge,64,512,arm64,0,mine,2026-01-01")
    cat = load_catalog(str(path))
    assert cat.names() == ["m5.large", "x9.huge"]
    assert cat.get("x9.huge") == InstanceType("x9.huge", "x", "huge", 64, 512 * GIB, "arm64", 0,
                                              "mine", "2026-01-01")


@pytest.mark.parametrize(
    ("row", "where"),
    [
        ("m5.large,m,large,abc,8,x86_64,0,test,2025-06-28", "row 3.vcpus"),
        ("m5.large,m,large,0,8,x86_64,0,test,2025-06-28", "row 3.vcpus"),
        ("m5.large,m,large,2,-8,x86_64,0,test,2025-06-28", "row 3.memory_gib"),
        ("m5.large,m,large,2,8,sparc,0,test,2025-06-28", "row 3.arch"),
        ("m5.large,m,large,2,8,x86_64,1.5,test,2025-06-28", "row 3.gpus"),
        ("m5.large,m,large,2,8,x86_64,0,,2025-06-28", "row 3.source"),
        ("m5.large,m,large,2,8,x86_64,0,test,June", "row 3.date"),
        ("m5.large,c,large,2,8,x86_64,0,test,2025-06-28", "row 3.family"),
        ("m5.large,m,xlarge,2,8,x86_64,0,test,2025-06-28", "row 3.size"),
        ("m5large,m,large,2,8,x86_64,0,test,2025-06-28", "row 3.name"),
    ],
)
def test_malformed_rows_name_row_and_column(tmp_path, row, where):
    path = write(tmp_path, HEADER, "t3.micro,t,micro,2,1,x86_64,0,test,2025-06-28", row)
    with pytest.raises(InputError) as info:
        load_catalog(path)
    assert info.value.source == str(path)
    assert f"{where}:" in str(info.value)


def test_duplicate_name(tmp_path):
    path = write(tmp_path, HEADER, GOOD_ROW, GOOD_ROW)
    with pytest.raises(InputError, match=r"row 3\.name: duplicate instance type; first defined in row 2"):
        load_catalog(path)


def test_missing_and_unknown_columns(tmp_path):
    path = write(tmp_path, HEADER.replace(",vcpus", "").replace("date", "date,price"),
                 "m5.large,m,large,8,x86_64,0,test,2025-06-28,0.096")
    with pytest.raises(InputError) as info:
        load_catalog(path)
    text = str(info.value)
    assert "missing column 'vcpus'" in text and "unknown column 'price'" in text


def test_every_problem_is_reported_at_once(tmp_path):
    path = write(tmp_path, HEADER, "m5.large,m,large,abc,8,sparc,0,test,2025-06-28")
    with pytest.raises(InputError) as info:
        load_catalog(path)
    assert [p.path for p in info.value.problems] == ["row 2.vcpus", "row 2.arch"]


def test_missing_file_and_empty_file(tmp_path):
    with pytest.raises(InputError, match="no such catalog file"):
        load_catalog(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="no instance types"):
        load_catalog(write(tmp_path, HEADER))
