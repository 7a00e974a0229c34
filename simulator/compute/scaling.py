"""Pure capacity decisions of a fleet: scheduled actions, where to launch, whom to scale in.

Everything here is a function of plain values (no SimPy): when a scheduled action fires
(``action_times``, cron recurrences in UTC matched on a minute grid), what capacity it leaves
(``apply_action``, AWS's clamping), which AZs new instances go to (``launch_azs``: the AZ with
the fewest first) and which instances scale-in ends (``scale_in_picks``: from the AZ with
the most, newest first).  The fleet's SimPy process observes, calls these and acts.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulator.scenario.schema import ScheduledAction

MINUTE = 60.0


@dataclass(frozen=True)
class Capacity:
    """A fleet's capacity settings: desired instances within [min_size, max_size]."""

    desired: int
    min_size: int
    max_size: int | None  # None: no limit

    def clamp(self, n: int) -> int:
        """n moved into [min_size, max_size]."""
        n = max(n, self.min_size)
        return n if self.max_size is None else min(n, self.max_size)


def apply_action(cap: Capacity, action: ScheduledAction) -> Capacity:
    """The capacity after a scheduled action (AWS semantics).

    Min and max the action gives replace the old ones; a desired capacity it gives must lie
    within them (ValueError otherwise); one it leaves out is kept, raised to the new minimum
    or lowered to the new maximum.
    """
    lo = cap.min_size if action.min_size is None else action.min_size
    hi = cap.max_size if action.max_size is None else action.max_size
    if hi is not None and lo > hi:
        raise ValueError(f"min_size {lo} would exceed max_size {hi}")
    new = Capacity(cap.desired, lo, hi)
    if action.desired is None:
        return Capacity(new.clamp(cap.desired), lo, hi)
    if new.clamp(action.desired) != action.desired:
        raise ValueError(f"desired {action.desired} lies outside [{lo}, {hi if hi is not None else '∞'}]")
    return Capacity(action.desired, lo, hi)


# --------------------------------------------------------------------------- recurrences


def cron_fields(expression: str) -> list[np.ndarray | None]:
    """The allowed values of each of the five cron fields (None = any), via croniter.

    Day of week uses 0 = Sunday (7 is folded onto 0).  L, W, # and ? are not supported.
    """
    from croniter import croniter

    fields: list[np.ndarray | None] = []
    for i, values in enumerate(croniter(expression).expanded):
        if values == ["*"]:
            fields.append(None)
            continue
        if not all(isinstance(v, int) for v in values):
            raise ValueError("the cron characters L, W, # and ? are not supported")
        arr = np.asarray(values, dtype=np.int64)
        fields.append(np.unique(arr % 7) if i == 4 else arr)
    return fields


def cron_times(expression: str, start: dt.datetime, t0: float, t1: float) -> np.ndarray:
    """Offsets (s from `start`) in [t0, t1] at which the UTC cron expression matches.

    Vixie-cron semantics: a time matches when minute, hour and month match and the day
    matches: day of month and day of week are ORed when both are restricted.
    """
    minute, hour, dom, month, dow = cron_fields(expression)
    epoch = start.timestamp()
    first = math.ceil((epoch + t0) / MINUTE)
    last = math.floor((epoch + t1) / MINUTE)
    if last < first:
        return np.empty(0)
    minutes = np.arange(first, last + 1, dtype=np.int64)  # Unix minutes
    stamps = minutes.astype("datetime64[m]")
    days = stamps.astype("datetime64[D]")
    months = stamps.astype("datetime64[M]")
    ok = np.ones(len(minutes), dtype=bool)
    if minute is not None:
        ok &= np.isin(minutes % 60, minute)
    if hour is not None:
        ok &= np.isin((minutes // 60) % 24, hour)
    if month is not None:
        ok &= np.isin(months.astype(np.int64) % 12 + 1, month)
    day_of_month = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    day_of_week = (days.astype(np.int64) + 4) % 7  # 1970-01-01 was a Thursday (4)
    dom_ok = np.isin(day_of_month, dom) if dom is not None else None
    dow_ok = np.isin(day_of_week, dow) if dow is not None else None
    if dom_ok is not None and dow_ok is not None:
        ok &= dom_ok | dow_ok
    elif dom_ok is not None:
        ok &= dom_ok
    elif dow_ok is not None:
        ok &= dow_ok
    return minutes[ok].astype(np.float64) * MINUTE - epoch


def action_times(action: ScheduledAction, start: dt.datetime, horizon: float) -> np.ndarray:
    """Every time (s from the start) in [0, horizon) at which the action fires."""
    if action.at is not None:
        return np.array([action.at]) if action.at < horizon else np.empty(0)
    assert action.recurrence is not None
    end = horizon if action.end is None else min(horizon, action.end)
    times = cron_times(action.recurrence, start, action.start, end)
    return times[times < horizon]


def schedule(actions: Sequence[ScheduledAction], start: dt.datetime,
             horizon: float) -> list[tuple[float, int]]:
    """(time, action index) of every firing in [0, horizon), in time order.

    Raises ValueError naming both actions when two fire at the same time (AWS rejects them).
    """
    parts = [(action_times(a, start, horizon), i) for i, a in enumerate(actions)]
    if not parts:
        return []
    times = np.concatenate([t for t, _ in parts])
    index = np.concatenate([np.full(len(t), i) for t, i in parts])
    order = np.lexsort((index, times))
    times, index = times[order], index[order]
    same = np.flatnonzero(np.diff(times) == 0)
    if len(same):
        j = same[0]

        def label(i: int) -> str:
            return f"{i} ({actions[i].name})" if actions[i].name else str(i)

        when = (start + dt.timedelta(seconds=float(times[j]))).isoformat().replace("+00:00", "Z")
        raise ValueError(f"scheduled actions {label(int(index[j]))} and {label(int(index[j + 1]))} "
                         f"both fire at {times[j]:g} s ({when}); AWS rejects two actions at the "
                         "same time: move one of them")
    return list(zip(times.tolist(), index.tolist(), strict=True))


# --------------------------------------------------------------------------- where and whom


def launch_azs(counts: dict[str, int], n: int) -> list[str]:
    """AZs of n new instances: each goes to the AZ with the fewest (ties: the earlier AZ).

    `counts` maps every usable AZ, in the region's order, to its active instances.  One at a
    time this is a heap of (count, order); here the k-th new instance takes the k-th smallest
    free slot (level, order), level counting up from each AZ's count, which is the same
    sequence computed in NumPy (the heap cost ~0.5 µs an instance on 10,000-instance actions).
    """
    names = list(counts)
    if n <= 0 or not names:
        return []
    width = len(names)
    have = np.fromiter(counts.values(), dtype=np.int64, count=width)
    lo, hi = int(have.min()), int(have.min()) + n  # the n slots all lie below level hi
    while lo < hi:  # the lowest level below which at least n slots lie
        mid = (lo + hi) // 2
        if np.maximum(mid - have, 0).sum() >= n:
            hi = mid
        else:
            lo = mid + 1
    slots = np.maximum(lo - have, 0)
    az = np.repeat(np.arange(width), slots)
    level = np.repeat(have, slots) + (np.arange(az.size) - np.repeat(np.cumsum(slots) - slots,
                                                                     slots))
    order = np.lexsort((az, level))[:n]
    return [names[k] for k in az[order].tolist()]


def scale_in_picks(stacks: dict[str, Sequence[int]], n: int) -> list[str]:
    """The AZ of each of the n instances scale-in ends, in order.

    `stacks` holds each AZ's active instances' launch numbers (unique within a fleet), oldest
    first.  Each pick comes from the AZ with the most instances (ties: the AZ holding the
    newest) and takes its newest launch, so popping each named AZ's last instance in turn is
    the whole decision.  One at a time this is a heap of (-size, -newest launch); here every
    instance that could be picked gets that key at the moment it would be on top, and the n
    smallest keys in order are the picks.
    """
    names, azs, sizes, launches = list(stacks), [], [], []
    for k, stack in enumerate(stacks.values()):
        size = len(stack)
        take = min(n, size)
        if take <= 0:
            continue
        azs.append(np.full(take, k))
        sizes.append(np.arange(size, size - take, -1))
        launches.append(np.asarray(stack[size - take:], dtype=np.int64)[::-1])
    if not azs:
        return []
    az = np.concatenate(azs)
    order = np.lexsort((-np.concatenate(launches), -np.concatenate(sizes)))[:n]
    return [names[k] for k in az[order].tolist()]
