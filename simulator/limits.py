"""The allowed range of every quantity a user writes, in one place, with its reason.

Every input model states its fields' ranges with ``Field(ge=..., le=...)`` using these
constants; non-finite numbers are refused for every model by ``Spec``'s configuration
(simulator.scenario.base).  Together they are the one mechanism by which a number in a
scenario, an override, a price book, a catalog or a sweep is checked at validation: an error
names the field, the value and the range.  Later capabilities add their own constants here.
"""

from __future__ import annotations

from simulator.units import DAY, HOUR, YEAR

MAX_HORIZON = 100 * YEAR
"""Longest simulated horizon (durability studies run decades; compute runs are far shorter
and are bounded by the preflight estimate, not by this)."""

MIN_OBSERVE_INTERVAL = 1.0
"""Shortest observation interval: CloudWatch's high-resolution metrics are 1 s."""

MAX_RATE = 1e8
"""Highest arrival rate of one service, requests/s (an order above the largest public
load-balancer figures); whether a run at a given rate can finish is the preflight's call."""

MAX_BOOT_TIME = DAY
"""Longest boot time of an instance."""

MAX_SLO = HOUR
"""Longest latency objective."""

MAX_VOLUME_SIZE = 64 * 2.0**40
"""Largest EBS volume: 64 TiB (io2 Block Express)."""

MAX_VOLUME_IOPS = 256_000.0
"""Most provisioned IOPS of one EBS volume (io2 Block Express)."""

MAX_VOLUME_THROUGHPUT = 4000 * 2.0**20
"""Highest throughput of one EBS volume, bytes/s (io2 Block Express: 4,000 MiB/s)."""

MAX_SEED = 2**63 - 1
"""Largest seed (NumPy's SeedSequence takes any non-negative integer; this keeps seeds in
64-bit columns)."""

MAX_EXACT_LIMIT = 2_000_000_000
"""Most requests kept for exact percentiles before the sketch takes over."""

MAX_CV = 100.0
"""Largest coefficient of variation of a distribution (heavier tails are a trace's job)."""

SHAPE_RANGE = (0.01, 100.0)
"""Allowed shape parameters (Weibull, gamma): beyond them moments overflow a float."""

MAX_REPLICATIONS = 10_000
"""Most replications per sweep cell."""

MAX_VCPUS = 896
"""Most vCPUs of one instance type (EC2 u7i/u7in High Memory: 896)."""

MAX_GPUS = 16
"""Most GPUs of one instance type (p5/p4/g-family: up to 16 accelerators)."""

MAX_MEMORY_GIB = 32 * 1024.0
"""Most memory of one instance type (u7in-32tb: 32 TiB)."""

MAX_CELLS = 10_000
"""Most cells of one sweep grid (checked before the grid is built)."""

MAX_RUNS = 100_000
"""Most runs (cells x replications) of one sweep; whether they finish in a day is the
preflight's call."""

MAX_JOBS = 1024
"""Most parallel workers of a sweep on one machine or cluster."""
