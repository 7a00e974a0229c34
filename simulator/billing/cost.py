"""Billing: price a finished run's tables with a price book, as line items.

``cost(tables, book)`` is pure: it reads only the tables and the price book (never the
simulator), and returns one line item per resource and usage type with columns
``service, purchase_option, resource_id, usage_type, quantity, unit, usd``.
``cost_summary(items)`` totals them.  Missing tables mean no usage of that kind.

Rules (AWS's, see reference pricing-and-scaling.md sections 1.1 and 1.5):

* EC2 (``instance_intervals``): only ``running`` rows are billed.  Running rows of one instance
  that touch (one ends where the next starts, e.g. split at an observation boundary) are merged
  into one entry into running.  Each entry is billed max(duration, minimum) rounded up to the
  granularity of its OS's billing rule (Linux: per second, 60 s minimum; SUSE: per hour, 1 h
  minimum).  One line item per instance; quantity in billed seconds.
* EBS (``volume_intervals``): each interval (touching intervals of an unchanged volume merged)
  is billed per the book's EBS rule (per second, 60 s minimum); storage in GB-month (bytes /
  2^30 × billed seconds / 730 h) and provisioned IOPS and throughput above the included
  baseline in IOPS-month and MiBps-month.
* Data transfer (``transfer``): billing month m covers [m × 730 h, (m + 1) × 730 h); each row's
  bytes count in the month containing its ``start_s``.  Internet-out tiers are cumulative over all
  services within a month and restart each month; rows take tiers in order of ``start_s``.
  Inter-AZ bytes are charged twice (out of one AZ, into the other), so quantity is 2 × GB.
  Internet-in is priced (free in AWS) and listed.  One line item per service, direction and month.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from simulator.billing.pricebook import BillingRule, PriceBook
from simulator.units import GIB, MONTH


class LineItem(NamedTuple):
    """One billing line: a resource's usage of one type and what it costs (table `cost`)."""

    TABLE = "cost"
    service: str
    purchase_option: str
    resource_id: str
    usage_type: str
    quantity: float
    unit: str
    usd: float


COLUMNS = list(LineItem._fields)
SERVICES = ("ec2", "ebs", "data_transfer")
PURCHASE_OPTIONS = ("on_demand",)
TRANSFER_USAGE = {
    "internet_out": "DataTransfer-Out-Bytes",
    "internet_in": "DataTransfer-In-Bytes",
    "inter_az": "DataTransfer-Regional-Bytes",
    "inter_region": "AWS-Out-Bytes",
}
MIB = 2.0**20
TOUCH_S = 1e-9  # rows of one resource closer than this are contiguous

_INSTANCE = ["instance_id", "instance_type", "purchase_option", "os", "state", "start_s", "end_s"]
_VOLUME = ["volume_id", "volume_type", "size_bytes", "iops", "throughput_bytes_per_s", "start_s",
           "end_s"]
_TRANSFER = ["service", "direction", "bytes", "start_s"]


def cost(tables: Mapping[str, pd.DataFrame], book: PriceBook) -> pd.DataFrame:
    """Line items for a run's EC2, EBS and data-transfer usage, priced with book (see module)."""
    parts = [
        _ec2(_table(tables, "instance_intervals", _INSTANCE), book),
        _ebs(_table(tables, "volume_intervals", _VOLUME), book),
        _transfer(_table(tables, "transfer", _TRANSFER), book),
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return _no_items()
    return pd.concat(parts, ignore_index=True)[COLUMNS]


def cost_summary(items: pd.DataFrame) -> dict:
    """Totals of line items: total_usd, by_service and by_purchase_option (plain floats).

    Every service of ``SERVICES`` and purchase option of ``PURCHASE_OPTIONS`` is always present
    (0.0 without usage); ``by_purchase_option`` covers items that have one (EC2).
    """
    by_service = dict.fromkeys(SERVICES, 0.0)
    by_option = dict.fromkeys(PURCHASE_OPTIONS, 0.0)
    if len(items):
        by_service.update(_sums(items, "service"))
        by_option.update(_sums(items[items["purchase_option"] != ""], "purchase_option"))
    return {
        "total_usd": float(items["usd"].sum()) if len(items) else 0.0,
        "by_service": by_service,
        "by_purchase_option": by_option,
    }


def _sums(items: pd.DataFrame, key: str) -> dict[str, float]:
    return {str(k): float(v) for k, v in items.groupby(key)["usd"].sum().items()}


def _items(service, option, resource, usage, quantity, unit, usd) -> pd.DataFrame:
    """A line-item frame; a str argument is repeated for every resource."""
    n = len(resource)

    def column(v):
        return [v] * n if isinstance(v, str) else list(v)

    return pd.DataFrame({
        "service": column(service),
        "purchase_option": column(option),
        "resource_id": [str(r) for r in resource],
        "usage_type": column(usage),
        "quantity": np.asarray(quantity, dtype=float),
        "unit": column(unit),
        "usd": np.asarray(usd, dtype=float),
    }, columns=COLUMNS)


def _no_items() -> pd.DataFrame:
    return _items("", "", [], "", [], "", [])


def _table(tables: Mapping[str, pd.DataFrame], name: str, columns: list[str]) -> pd.DataFrame | None:
    """The named table's needed columns, or None when it is absent or empty."""
    frame = tables.get(name)
    if frame is None or len(frame) == 0:
        return None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"table {name!r} lacks column(s) {missing}")
    frame = frame[columns].copy()
    times = [c for c in ("start_s", "end_s") if c in columns]
    if frame[times].isna().any().any():
        raise ValueError(f"table {name!r} has rows without {' or '.join(times)}")
    if "end_s" in columns and (frame["end_s"] < frame["start_s"]).any():
        raise ValueError(f"table {name!r} has rows that end before they start")
    return frame


def _stays(frame: pd.DataFrame, key: str, same: list[str]) -> pd.DataFrame:
    """Merge rows of one resource that touch and keep the same `same` columns into one stay."""
    f = frame.sort_values([key, "start_s"], kind="stable").reset_index(drop=True)
    start, end = f["start_s"].to_numpy(dtype=float), f["end_s"].to_numpy(dtype=float)
    continues = np.zeros(len(f), dtype=bool)  # row i continues the stay of row i - 1
    if len(f) > 1:
        same_group = f[key].to_numpy()[1:] == f[key].to_numpy()[:-1]
        # reach = the latest end so far within the resource (rows may overlap)
        reach = f.groupby(key, sort=False)["end_s"].cummax().to_numpy(dtype=float) if (
            same_group & (end[:-1] > start[1:])).any() else end
        attached = same_group & (start[1:] <= reach[:-1] + TOUCH_S)
        for column in same:
            values = f[column].to_numpy()
            attached &= values[1:] == values[:-1]
        continues[1:] = attached
    first = np.flatnonzero(~continues)
    out = f.loc[first, [key, *same]].reset_index(drop=True)
    out["start_s"] = start[first]
    out["end_s"] = np.maximum.reduceat(end, first) if len(first) else end[:0]
    return out


def _billed(stays: pd.DataFrame, rule: BillingRule) -> np.ndarray:
    return np.asarray(rule.billed_seconds((stays["end_s"] - stays["start_s"]).to_numpy()))


def _ec2(frame: pd.DataFrame | None, book: PriceBook) -> pd.DataFrame:
    if frame is None:
        return _no_items()
    running = frame[frame["state"] == "running"]
    if running.empty:
        return _no_items()
    stays = _stays(running, "instance_id", ["instance_type", "purchase_option", "os"])
    unsupported = sorted(set(stays["purchase_option"]) - set(PURCHASE_OPTIONS))
    if unsupported:
        raise ValueError(f"cannot bill purchase option(s) {unsupported} yet; "
                         f"billing knows {list(PURCHASE_OPTIONS)}")
    billed = np.zeros(len(stays))
    for os, rows in stays.groupby("os").indices.items():
        billed[rows] = _billed(stays.iloc[rows], book.billing_rule(str(os)))
    stays = stays.assign(billed_s=billed)
    keys = ["instance_id", "instance_type", "purchase_option", "os"]
    per = stays.groupby(keys, as_index=False, sort=True)["billed_s"].sum()
    rate = [book.on_demand_usd_per_s(str(t), str(o)) for t, o in zip(per["instance_type"], per["os"],
                                                                      strict=True)]
    return _items("ec2", per["purchase_option"], per["instance_id"],
                  [f"BoxUsage:{t}" for t in per["instance_type"]], per["billed_s"], "s",
                  per["billed_s"].to_numpy() * np.asarray(rate))


def _ebs(frame: pd.DataFrame | None, book: PriceBook) -> pd.DataFrame:
    if frame is None:
        return _no_items()
    if book.ebs is None:
        raise KeyError(f"price book {book.name!r} has no ebs section, but the run has EBS volumes")
    frame[["iops", "throughput_bytes_per_s"]] = frame[["iops", "throughput_bytes_per_s"]].fillna(0.0)
    stays = _stays(frame, "volume_id", ["volume_type", "size_bytes", "iops", "throughput_bytes_per_s"])
    stays = stays.assign(billed_s=_billed(stays, book.ebs.billing))
    parts = []
    for vtype, g in stays.groupby("volume_type", sort=True):
        rates, s = book.ebs_rates(str(vtype)), g["billed_s"].to_numpy()
        size = g["size_bytes"].to_numpy(dtype=float)
        parts.append(_items("ebs", "", g["volume_id"], f"EBS:VolumeUsage.{vtype}",
                            size / GIB * s / MONTH, "GB-month", size * s * rates.storage_usd_per_byte_s))
        if rates.iops_usd_per_iops_s is not None:
            extra = np.maximum(g["iops"].to_numpy(dtype=float) - rates.included_iops, 0.0)
            parts.append(_items("ebs", "", g["volume_id"], f"EBS:VolumeP-IOPS.{vtype}",
                                extra * s / MONTH, "IOPS-month", extra * s * rates.iops_usd_per_iops_s))
        if rates.throughput_usd_per_bps_s is not None:
            bps = g["throughput_bytes_per_s"].to_numpy(dtype=float)
            extra = np.maximum(bps - rates.included_throughput_bytes_per_s, 0.0)
            parts.append(_items("ebs", "", g["volume_id"], f"EBS:VolumeP-Throughput.{vtype}",
                                extra / MIB * s / MONTH, "MiBps-month",
                                extra * s * rates.throughput_usd_per_bps_s))
    items = pd.concat(parts, ignore_index=True)
    keep = (items["quantity"] > 0) | items["usage_type"].str.startswith("EBS:VolumeUsage.")
    return _grouped(items[keep])


def _grouped(items: pd.DataFrame) -> pd.DataFrame:
    """Sum quantity and usd of items sharing service, option, resource, usage type and unit."""
    keys = ["service", "purchase_option", "resource_id", "usage_type", "unit"]
    return items.groupby(keys, as_index=False, sort=True)[["quantity", "usd"]].sum()[COLUMNS]


def _tiered_usd(cumulative: np.ndarray, tiers) -> np.ndarray:
    """Cost of the first `cumulative` bytes of a month under a cumulative tier list."""
    total, low = np.zeros_like(cumulative, dtype=float), 0.0
    for tier in tiers:
        high = np.inf if tier.up_to_bytes is None else tier.up_to_bytes
        total += np.clip(cumulative - low, 0.0, high - low) * tier.usd_per_byte
        low = high
    return total


def _transfer(frame: pd.DataFrame | None, book: PriceBook) -> pd.DataFrame:
    if frame is None:
        return _no_items()
    prices = book.data_transfer
    if prices is None:
        raise KeyError(f"price book {book.name!r} has no data_transfer section, "
                       "but the run moved data")
    unknown = sorted(set(frame["direction"]) - set(TRANSFER_USAGE))
    if unknown:
        raise ValueError(f"unknown transfer direction(s) {unknown}; expected {list(TRANSFER_USAGE)}")
    if (frame["bytes"] < 0).any():
        raise ValueError("table 'transfer' has rows with negative bytes")
    f = frame.assign(month=np.floor(frame["start_s"] / MONTH).astype(int))
    f = f.sort_values(["month", "start_s"], kind="stable")
    nbytes = f["bytes"].to_numpy(dtype=float)
    usd, billed = np.zeros(len(f)), nbytes.copy()
    out = (f["direction"] == "internet_out").to_numpy()
    cum = f.loc[out].groupby("month")["bytes"].cumsum().to_numpy(dtype=float)
    usd[out] = _tiered_usd(cum, prices.internet_out) - _tiered_usd(cum - nbytes[out], prices.internet_out)
    for direction, rate, sides in (("internet_in", prices.internet_in.usd_per_byte, 1),
                                   ("inter_az", prices.inter_az.usd_per_byte_each_direction, 2),
                                   ("inter_region", prices.inter_region.usd_per_byte, 1)):
        rows = (f["direction"] == direction).to_numpy()
        billed[rows] = nbytes[rows] * sides
        usd[rows] = billed[rows] * rate
    items = _items("data_transfer", "",
                   [f"{s}/month-{m}" for s, m in zip(f["service"], f["month"], strict=True)],
                   [TRANSFER_USAGE[d] for d in f["direction"]], billed / GIB, "GB", usd)
    return _grouped(items)
