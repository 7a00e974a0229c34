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


def __getattr__(name: str):
    # Lazy imports keep `import simulator` (and the CLI's start-up) light.
    if name == "load_scenario":
        from simulator.scenario.loader import load_scenario

        return load_scenario
    if name == "run":
        from simulator.engine.runner import run

        return run
    if name == "RunResult":
        from simulator.engine.runner import RunResult

        return RunResult
    if name == "Scenario":
        from simulator.scenario.schema import Scenario

        return Scenario
    if name == "InputError":
        from simulator.errors import InputError

        return InputError
    if name == "load_sweep":
        from simulator.experiments.spec import load_sweep

        return load_sweep
    if name in ("run_sweep", "SweepResult"):
        from simulator.experiments import runner

        return getattr(runner, name)
    if name == "write_run":
        from simulator.results import write_run

        return write_run
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
