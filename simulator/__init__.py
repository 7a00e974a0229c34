"""dcsim: a discrete-event simulator of a cloud region (EC2-like compute, S3-like storage).

Public API (what notebooks and tests use)::

    from simulator import load_scenario, run
    scenario = load_scenario("scenarios/quickstart.yaml", ["fleets.web.count=6"])
    result = run(scenario, seed=1)
    result.summary["latency"]["p99_s"], result.tables["service_intervals"]

    sweep = run_sweep("scenarios/sweeps/fleet-size.yaml", jobs=2)
    sweep.runs, sweep.cells, sweep.differences          # tidy DataFrames
"""

__version__ = "0.1.0"

__all__ = [
    "InputError", "RunResult", "Scenario", "SweepResult", "load_scenario", "load_sweep", "run",
    "run_sweep", "write_run",
]


_PUBLIC = {
    "load_scenario": "simulator.scenario.loader",
    "run": "simulator.engine.runner",
    "RunResult": "simulator.engine.runner",
    "Scenario": "simulator.scenario.schema",
    "InputError": "simulator.errors",
    "write_run": "simulator.results",
    "load_sweep": "simulator.experiments.spec",
    "run_sweep": "simulator.experiments.runner",
    "SweepResult": "simulator.experiments.runner",
}


def __getattr__(name: str):
    # Lazy imports keep `import simulator` (and the CLI's start-up) light.
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
