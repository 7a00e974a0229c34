"""The price book: builtin data with sources, base-unit conversion, user books, and errors."""

from __future__ import annotations

from importlib import resources

import pytest

from simulator.billing.pricebook import BillingRule, PriceBook, load_pricebook, parse_pricebook
from simulator.compute.catalog import load_catalog
from simulator.errors import InputError
from simulator.units import GIB, HOUR, MONTH
from tests.conftest import ec2_book

BUILTIN_TEXT = resources.files("simulator.billing").joinpath("data", "aws-us-east-1.yaml").read_text()
MIB = 2.0**20
TIB = 2.0**40

SMALL_BOOK = ec2_book("my-book", "{m5.large: 0.5}", '{m5.large: "$0.096/h"}')


@pytest.fixture(scope="module")
def book() -> PriceBook:
    return load_pricebook()


def test_builtin_identity(book):
    assert (book.name, book.region, book.currency) == ("aws-us-east-1", "us-east-1", "USD")
    assert book.version == "2026-11-22"
    assert book.source_path.endswith("aws-us-east-1.yaml")
    assert load_pricebook("aws-us-east-1") == book


def test_every_catalog_type_has_a_linux_on_demand_price(book):
    missing = [n for n in load_catalog().names() if not book.has_on_demand(n, "linux")]
    assert missing == []


def test_on_demand_prices_are_per_second(book):
    assert book.on_demand_usd_per_s("m5.large") == pytest.approx(0.096 / HOUR, rel=1e-12)
    assert book.on_demand_usd_per_s("p4d.24xlarge", "linux") * HOUR == pytest.approx(21.957642)
    # the 2xlarge sizes added beyond the reference table are exactly twice the xlarge
    for prefix in ("m5", "m6i", "c5", "r5"):
        assert book.on_demand_usd_per_s(f"{prefix}.2xlarge") == pytest.approx(
            2 * book.on_demand_usd_per_s(f"{prefix}.xlarge"), rel=1e-12)


def test_missing_prices_raise_clear_key_errors(book):
    assert not book.has_on_demand("m5.large", "windows")
    assert not book.has_on_demand("m5.huge", "linux")
    with pytest.raises(KeyError, match="no on-demand prices for OS 'windows'"):
        book.on_demand_usd_per_s("m5.large", "windows")
    with pytest.raises(KeyError, match=r"no on-demand linux price for 'm5\.larg'.*m5\.large"):
        book.on_demand_usd_per_s("m5.larg")
    with pytest.raises(KeyError, match="no EC2 billing rule for OS 'bsd'"):
        book.billing_rule("bsd")
    with pytest.raises(KeyError, match="io2"):
        book.ebs_rates("io2")
    with pytest.raises(KeyError, match="reduced_redundancy"):
        book.s3_class("reduced_redundancy")


def test_billing_rules(book):
    for os in ("linux", "windows", "rhel", "ubuntu"):
        assert book.billing_rule(os) == BillingRule(granularity_s=1, minimum_s=60)
    assert book.billing_rule("suse") == BillingRule(granularity_s=HOUR, minimum_s=HOUR)
    assert book.ebs.billing == BillingRule(granularity_s=1, minimum_s=60)


def test_billing_rule_rounds_up_after_the_minimum():
    linux = BillingRule(granularity_s=1, minimum_s=60)
    suse = BillingRule(granularity_s=HOUR, minimum_s=HOUR)
    assert [float(linux.billed_seconds(d)) for d in (0, 45, 60, 61, 61.2, 3599)] == [
        60, 60, 60, 61, 62, 3599]
    assert [float(suse.billed_seconds(d)) for d in (45, 3600, 3601)] == [HOUR, HOUR, 2 * HOUR]
    assert float(linux.billed_seconds(61 + 1e-12)) == 61  # float noise does not add a second


def test_ebs_rates_in_base_units(book):
    gp3 = book.ebs_rates("gp3")
    assert gp3.storage_usd_per_byte_s * GIB * MONTH == pytest.approx(0.08)
    assert gp3.included_iops == 3000
    assert gp3.iops_usd_per_iops_s * MONTH == pytest.approx(0.005)
    assert gp3.included_throughput_bytes_per_s == 125 * MIB
    assert gp3.throughput_usd_per_bps_s * MIB * MONTH == pytest.approx(0.04)
    gp2 = book.ebs_rates("gp2")
    assert gp2.storage_usd_per_byte_s * GIB * MONTH == pytest.approx(0.10)
    assert gp2.iops_usd_per_iops_s is None and gp2.throughput_usd_per_bps_s is None


def test_data_transfer_tiers_in_base_units(book):
    dt = book.data_transfer
    assert [t.up_to_bytes for t in dt.internet_out] == [100 * GIB, 10 * TIB, 50 * TIB, 150 * TIB, None]
    assert [t.usd_per_byte * GIB for t in dt.internet_out] == pytest.approx([0, 0.09, 0.085, 0.07, 0.05])
    assert dt.internet_in.usd_per_byte == 0
    assert dt.inter_az.usd_per_byte_each_direction * GIB == pytest.approx(0.01)
    assert dt.inter_region.usd_per_byte * GIB == pytest.approx(0.02)


def test_s3_classes(book):
    assert set(book.s3.classes) == {"standard", "intelligent_tiering", "standard_ia", "onezone_ia",
                                    "glacier_ir", "glacier", "deep_archive"}
    std = book.s3_class("standard")
    assert [t.usd_per_byte_s * GIB * MONTH for t in std.storage] == pytest.approx([0.023, 0.022, 0.021])
    assert std.put_usd_per_request * 1000 == pytest.approx(0.005)
    assert std.get_usd_per_request * 1000 == pytest.approx(0.0004)
    ia = book.s3_class("standard_ia")
    assert (ia.minimum_duration_s, ia.minimum_billable_bytes) == (30 * 86400, 128 * 1024)
    assert ia.retrieval_usd_per_byte * GIB == pytest.approx(0.01)
    glacier = book.s3_class("glacier")
    assert glacier.get_usd_per_request is None
    assert glacier.restores["expedited"].usd_per_request == pytest.approx(0.01)
    assert (glacier.archive_overhead.standard_bytes, glacier.archive_overhead.class_bytes) == (
        8 * 1024, 32 * 1024)
    assert book.s3_class("deep_archive").minimum_duration_s == 180 * 86400
    it = book.s3_class("intelligent_tiering")
    assert it.monitoring_usd_per_object_s * 1000 * MONTH == pytest.approx(0.0025)
    assert it.access_tiers["deep_archive"] * GIB * MONTH == pytest.approx(0.00099)


def test_every_section_names_its_sources(book):
    for section in (book.ec2, book.ebs, book.s3, book.data_transfer):
        for key in type(section).model_fields:
            value = getattr(section, key)
            if key == "sources" or not value:
                continue
            source = section.source_of(key)
            assert source is not None and source.source and source.date, key
    assert "2 x the xlarge" in book.ec2.source_of("on_demand.linux.m5.2xlarge").source
    assert "karpenter" in book.ec2.source_of("on_demand.linux.m5.large").source
    assert book.ec2.reserved is None and book.ec2.savings_plans is None and book.ec2.spot is None


def test_user_book_overrides_the_builtin(tmp_path):
    (tmp_path / "books").mkdir()
    (tmp_path / "books" / "mine.yaml").write_text(SMALL_BOOK)
    book = load_pricebook("books/mine.yaml", base_dir=tmp_path)
    assert book.name == "my-book"
    assert book.source_path == str(tmp_path / "books" / "mine.yaml")
    assert book.on_demand_usd_per_s("m5.large") * HOUR == pytest.approx(0.5)
    assert book.on_demand_usd_per_s("m5.large", "suse") * HOUR == pytest.approx(0.096)
    assert not book.has_on_demand("c5.large")
    assert book.ebs is None and book.data_transfer is None and book.s3 is None
    assert load_pricebook(tmp_path / "books" / "mine.yaml") == book


def test_the_book_is_frozen(book):
    with pytest.raises(Exception, match="frozen"):
        book.name = "other"


def error(text: str) -> str:
    with pytest.raises(InputError) as info:
        parse_pricebook(text, "book.yaml")
    return str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("m5.large: 0.096", "m5.large: -1",
         "ec2.on_demand.linux.m5.large: must be a non-negative price in $/h (got -1)"),
        ("m5.large: 0.096", "m5.large: cheap", "ec2.on_demand.linux.m5.large: must be a price in $/h"),
        ("  on_demand:\n    linux:", "  on_demnd:\n    linux:",
         "ec2.on_demnd: unknown key; did you mean 'on_demand'?"),
        ("suse: {granularity: 1 h", "suse: {granularity: 1 fortnight",
         "ec2.billing.suse.granularity: unknown time unit 'fortnight'"),
        ("suse: {granularity: 1 h", "suse: {granularity: 0 h",
         "ec2.billing.suse.granularity: must be a positive duration"),
        ("{up_to: 50 TiB, usd_per_gb: 0.085}", "{up_to: 5 TiB, usd_per_gb: 0.085}",
         "data_transfer.internet_out: tiers out of order: tier 2"),
        ("{up_to: null, usd_per_gb: 0.05}", "{up_to: 200 TiB, usd_per_gb: 0.05}",
         "data_transfer.internet_out: the last tier must be open-ended"),
        ("{up_to: 100 GiB, usd_per_gb: 0.0}", "{up_to: 100 GB, usd_per_gb: 0.0}",
         "data_transfer.internet_out.0.up_to: write binary units (GiB, not GB)"),
        ("{up_to: 100 GiB, usd_per_gb: 0.0}", "{up_to: 100 GiB, usd_per_gb: -0.01}",
         "data_transfer.internet_out.0.usd_per_gb: must be a non-negative price in $/GB (got -0.01)"),
        ("usd_per_gb_month: 0.08", "usd_per_gb_month: '0.08'",
         "ebs.volumes.gp3.usd_per_gb_month: must be a non-negative price in $/GB-month"),
        ("included_throughput: 125 MiB/s", "included_throughput: 125 parsecs/s",
         "ebs.volumes.gp3.included_throughput: unknown size unit 'parsecs'"),
        ("minimum_duration: 30 d", "minimum_duration: 30 eons",
         "s3.classes.standard_ia.minimum_duration: unknown time unit 'eons'"),
        ("reserved: {}", "reserved: {m5.large: 0.06}", "ec2.reserved: not supported yet"),
        ("currency: USD", "currency: EUR", "currency: Input should be 'USD'"),
        ("version: 2026-11-22", "version: soon", "version: must be a date"),
        ("name: aws-us-east-1\n", "", "name: required key is missing"),
        ("    linux: {granularity: 1 s, minimum: 60 s}\n", "",
         "ec2: on_demand.linux has prices but there is no billing.linux rule"),
        ("    billing:\n      source: AWS", "    bililng:\n      source: AWS",
         "ec2.sources: 'bililng' names no key of this section"),
    ],
)
def test_malformed_books_name_the_dotted_path(old, new, expected):
    assert old in BUILTIN_TEXT
    message = error(BUILTIN_TEXT.replace(old, new, 1))
    assert message.startswith("book.yaml: ")
    assert expected in message


def test_yaml_syntax_error_gives_line_and_column():
    message = error(SMALL_BOOK.replace("currency: USD", "currency: [USD"))
    assert "book.yaml: YAML syntax error at line 5, column 4:" in message


def test_a_key_written_twice_is_an_error():
    message = error(SMALL_BOOK.replace("{m5.large: 0.5}", "{m5.large: 0.5, m5.large: 0.6}"))
    assert "line 10, column 28" in message and "duplicate key 'm5.large'" in message


def test_not_a_mapping():
    assert "must be a YAML mapping" in error("- just\n- a list\n")


def test_every_problem_is_reported_at_once():
    text = SMALL_BOOK.replace("m5.large: 0.5", "m5.large: -1").replace("region: us-east-1\n", "")
    with pytest.raises(InputError) as info:
        parse_pricebook(text, "book.yaml")
    assert sorted(p.path for p in info.value.problems) == ["ec2.on_demand.linux.m5.large", "region"]


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such price book file.*aws-us-east-1"):
        load_pricebook("nope.yaml", base_dir=tmp_path)
    with pytest.raises(InputError, match="no such price book file"):
        load_pricebook("aws-eu-west-9")
