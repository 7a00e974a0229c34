"""The price book: what every billable thing costs, as versioned data with a source per number.

A price book is a YAML file (the builtin one is ``billing/data/aws-us-east-1.yaml``) read into a
frozen ``PriceBook``.  Files write prices in the units AWS quotes, named by their keys
(``usd_per_gb_month: 0.08``, on-demand prices in $ per instance-hour); loading converts every
number once into dcsim's base units, which is what the attributes hold:

* money in USD, time in seconds, sizes in bytes;
* ``*_usd_per_s``: USD per second; ``*_usd_per_byte``: USD per byte moved or read;
  ``*_usd_per_byte_s``: USD per byte stored for one second; ``*_usd_per_request``: USD each.

Conventions: GB in a price means 2^30 bytes, a month is 730 h (``simulator.units.MONTH``), and
sizes in a price book must be written in binary units ("100 GiB", "10 TiB").  Tier lists are
cumulative within a billing month: ``up_to`` is where a tier ends and the last tier is open.
Reserved, savings-plan and spot sections exist but must stay empty until dcsim bills them.
Every problem in a file is raised as one ``InputError`` with dotted paths; instance-type names
such as ``m5.large`` stay one path segment (``ec2.on_demand.linux.m5.large``).
"""

from __future__ import annotations

import difflib
import functools
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from simulator.billing.fields import (
    Count,
    Duration,
    Empty,
    IsoDate,
    OptSize,
    OptUsdPer1000,
    OptUsdPer1000ObjectMonths,
    OptUsdPerIopsMonth,
    OptUsdPerMibpsMonth,
    PositiveDuration,
    Size,
    Text,
    Throughput,
    UsdPer1000,
    UsdPerGb,
    UsdPerGbMonth,
    UsdPerHour,
    ordered_tiers,
)
from simulator.errors import InputError, Problem
from simulator.inputs import load_yaml, validation_problems
from simulator.scenario.base import SPEC_CONFIG

DEFAULT_BOOK = "aws-us-east-1"


class _Model(BaseModel):
    model_config = SPEC_CONFIG


class Source(_Model):
    """Where a group of numbers comes from."""

    source: Text
    date: IsoDate
    note: str = ""


class _Section(_Model):
    sources: dict[str, Source] = {}
    """Source per key of this section, or per dotted path below one (longest path wins)."""

    @field_validator("sources")
    @classmethod
    def _sources_name_keys(cls, sources: dict[str, Source]) -> dict[str, Source]:
        keys = sorted({f.alias or n for n, f in cls.model_fields.items()} - {"sources"})
        for path in sources:
            if path.split(".", 1)[0] not in keys:
                raise ValueError(f"{path!r} names no key of this section; use one of {keys}")
        return sources

    def source_of(self, path: str) -> Source | None:
        """The source of the number at dotted path (relative to this section), if one is given."""
        best = [k for k in self.sources if path == k or path.startswith(k + ".")]
        return self.sources[max(best, key=len)] if best else None


class BillingRule(_Model):
    """How usage time becomes billed time: at least `minimum_s`, rounded up to `granularity_s`."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)
    granularity_s: PositiveDuration = Field(alias="granularity")
    minimum_s: Duration = Field(alias="minimum")

    def billed_seconds(self, duration_s: Any) -> Any:
        """Billed seconds for one stay (scalar or array): max(duration, minimum) rounded up."""
        units = np.ceil(np.maximum(duration_s, self.minimum_s) / self.granularity_s - 1e-9)
        return units * self.granularity_s


class Ec2Prices(_Section):
    """EC2 instance prices by purchase option, and the billing rule of each OS."""

    billing: dict[str, BillingRule]
    on_demand: dict[str, dict[str, UsdPerHour]] = {}
    """USD per second by OS, then instance type (the file says $ per instance-hour)."""
    reserved: Empty = None
    savings_plans: Empty = None
    spot: Empty = None

    @model_validator(mode="after")
    def _every_priced_os_has_a_rule(self) -> Ec2Prices:
        for os in self.on_demand:
            if os not in self.billing:
                raise ValueError(f"on_demand.{os} has prices but there is no billing.{os} rule")
        return self


class EbsVolumeRates(_Model):
    """Prices of one EBS volume type."""

    storage_usd_per_byte_s: UsdPerGbMonth = Field(alias="usd_per_gb_month")
    included_iops: Count = 0.0
    iops_usd_per_iops_s: OptUsdPerIopsMonth = Field(None, alias="usd_per_iops_month")
    """USD per provisioned IOPS above `included_iops`, per second; None: not billed."""
    included_throughput_bytes_per_s: Throughput = Field(0.0, alias="included_throughput")
    throughput_usd_per_bps_s: OptUsdPerMibpsMonth = Field(None, alias="usd_per_mibps_month")
    """USD per byte/s of provisioned throughput above the included amount, per second."""


class EbsPrices(_Section):
    """EBS volume prices and billing rule."""

    billing: BillingRule
    volumes: dict[str, EbsVolumeRates]


class TransferTier(_Model):
    """One tier of a monthly cumulative price list for bytes moved."""

    up_to_bytes: OptSize = Field(alias="up_to")
    usd_per_byte: UsdPerGb = Field(alias="usd_per_gb")


class FlatTransfer(_Model):
    usd_per_byte: UsdPerGb = Field(alias="usd_per_gb")


class InterAzTransfer(_Model):
    usd_per_byte_each_direction: UsdPerGb = Field(alias="usd_per_gb_each_direction")
    """Charged out of the sending AZ and again into the receiving one."""


class DataTransferPrices(_Section):
    """Data transfer prices; internet-out tiers restart every billing month."""

    internet_out: Annotated[tuple[TransferTier, ...], AfterValidator(ordered_tiers)]
    internet_in: FlatTransfer
    inter_az: InterAzTransfer
    inter_region: FlatTransfer


class StorageTier(_Model):
    """One tier of a storage price list, by bytes stored."""

    up_to_bytes: OptSize = Field(alias="up_to")
    usd_per_byte_s: UsdPerGbMonth = Field(alias="usd_per_gb_month")


class Restore(_Model):
    """Price of restoring archived objects at one retrieval speed."""

    usd_per_byte: UsdPerGb = Field(alias="usd_per_gb")
    usd_per_request: UsdPer1000 = Field(alias="usd_per_1000_requests")


class ArchiveOverhead(_Model):
    """Metadata billed per archived object: some at Standard's price, some at the class's."""

    standard_bytes: Size = Field(alias="at_standard_price")
    class_bytes: Size = Field(alias="at_class_price")


class S3Class(_Model):
    """Prices and billing rules of one S3 storage class."""

    storage: Annotated[tuple[StorageTier, ...], AfterValidator(ordered_tiers)]
    put_usd_per_request: UsdPer1000 = Field(alias="put_usd_per_1000")
    get_usd_per_request: OptUsdPer1000 = Field(None, alias="get_usd_per_1000")
    """None: objects must be restored before they can be read."""
    retrieval_usd_per_byte: UsdPerGb = Field(0.0, alias="retrieval_usd_per_gb")
    restores: dict[str, Restore] = {}
    minimum_duration_s: Duration = Field(0.0, alias="minimum_duration")
    minimum_billable_bytes: Size = Field(0.0, alias="minimum_billable_size")
    archive_overhead: ArchiveOverhead | None = None
    access_tiers: dict[str, UsdPerGbMonth] = {}
    """Intelligent-Tiering: storage price of each tier other than Frequent (`storage`)."""
    monitoring_usd_per_object_s: OptUsdPer1000ObjectMonths = Field(
        None, alias="monitoring_usd_per_1000_objects_month")
    monitoring_minimum_bytes: Size = Field(0.0, alias="monitoring_minimum_size")


class S3Prices(_Section):
    classes: dict[str, S3Class]


class PriceBook(_Model):
    """A region's prices in base units (USD, seconds, bytes); see the module docstring."""

    name: Text
    version: IsoDate
    region: Text
    currency: Literal["USD"]
    ec2: Ec2Prices
    ebs: EbsPrices | None = None
    s3: S3Prices | None = None
    data_transfer: DataTransferPrices | None = None
    _source_path: str = PrivateAttr("")

    @property
    def source_path(self) -> str:
        """The file this book was loaded from ("" if built in code)."""
        return self._source_path

    def has_on_demand(self, instance_type: str, os: str = "linux") -> bool:
        return instance_type in self.ec2.on_demand.get(os, {})

    def on_demand_usd_per_s(self, instance_type: str, os: str = "linux") -> float:
        """On-demand price of one instance-second; KeyError naming what is missing."""
        prices = self.ec2.on_demand.get(os)
        if prices is None:
            raise KeyError(f"price book {self.name!r} has no on-demand prices for OS {os!r}; "
                           f"it prices {sorted(self.ec2.on_demand)}")
        if instance_type not in prices:
            close = difflib.get_close_matches(instance_type, list(prices), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise KeyError(f"price book {self.name!r} has no on-demand {os} price for "
                           f"{instance_type!r}{hint}")
        return prices[instance_type]

    def billing_rule(self, os: str = "linux") -> BillingRule:
        """How EC2 time of an OS is billed; KeyError if the book has no rule for it."""
        if os not in self.ec2.billing:
            raise KeyError(f"price book {self.name!r} has no EC2 billing rule for OS {os!r}; "
                           f"it has {sorted(self.ec2.billing)}")
        return self.ec2.billing[os]

    def ebs_rates(self, volume_type: str) -> EbsVolumeRates:
        """Prices of an EBS volume type; KeyError if the book does not price it."""
        volumes = self.ebs.volumes if self.ebs else {}
        if volume_type not in volumes:
            raise KeyError(f"price book {self.name!r} has no EBS prices for volume type "
                           f"{volume_type!r}; it prices {sorted(volumes)}")
        return volumes[volume_type]

    def s3_class(self, storage_class: str) -> S3Class:
        """Prices of an S3 storage class; KeyError if the book does not price it."""
        classes = self.s3.classes if self.s3 else {}
        if storage_class not in classes:
            raise KeyError(f"price book {self.name!r} has no S3 class {storage_class!r}; "
                           f"it has {sorted(classes)}")
        return classes[storage_class]


# -- loading ----------------------------------------------------------------------------------


def builtin_pricebooks() -> list[str]:
    """Names of the price books shipped with dcsim."""
    data = resources.files("simulator.billing").joinpath("data")
    return sorted(p.name[: -len(".yaml")] for p in data.iterdir() if p.name.endswith(".yaml"))


def load_pricebook(ref: str | Path = DEFAULT_BOOK, base_dir: Path | None = None) -> PriceBook:
    """Load a builtin price book by name, or a YAML file (relative paths from base_dir)."""
    if isinstance(ref, str) and ref in builtin_pricebooks():
        resource = resources.files("simulator.billing").joinpath("data", f"{ref}.yaml")
        return parse_pricebook(resource.read_text(encoding="utf-8"), str(resource))
    path = Path(ref)
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        names = ", ".join(builtin_pricebooks())
        raise InputError(str(path), [Problem(
            "", f"no such price book file; give a YAML file or a builtin name ({names})")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), [Problem("", f"cannot read the price book: {exc}")]) from None
    return parse_pricebook(text, str(path))


@functools.lru_cache(maxsize=32)
def parse_pricebook(text: str, source: str = "") -> PriceBook:
    """Validate price-book YAML text; source names it in error messages and `source_path`.

    Cached on (text, source): a PriceBook is immutable, so runs and sweeps share one.
    """
    data = load_yaml(text, source)
    if not isinstance(data, dict):
        raise InputError(source, [Problem("", "a price book must be a YAML mapping (name:, ec2:, ...)")])
    try:
        book = PriceBook.model_validate(data)
    except ValidationError as exc:
        raise InputError(source, validation_problems(exc, data, PriceBook)) from None
    book._source_path = source
    return book
