"""Scheduled scaling, load-balancer targets and their bills against hand-computed cases.

Every expected value here is worked out by hand from the rules (AWS Auto Scaling scheduled
actions, AZ-balanced launch and scale-in, ELB health checks and deregistration, per-second
billing with a 60 s minimum per entry into running, EBS by GB-month with GB = 2^30 bytes and
month = 730 h) and written down before the run; nothing is pinned to what a seed produced.

Placement rules used by hand (region AZs a, b, c in that order):
* scale-out puts each new instance in the AZ with the fewest active instances, ties to the
  earlier AZ;
* scale-in takes each victim from the AZ with the most, ties to the AZ holding the newest
  launch, and within the AZ the newest launch first.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from simulator import run
from simulator.billing.pricebook import load_pricebook
from simulator.compute.scaling import action_times
from simulator.errors import InputError
from simulator.scenario.loader import validate_scenario
from simulator.scenario.schema import ScheduledAction
from simulator.units import GIB, MONTH

A, B, C = "us-east-1a", "us-east-1b", "us-east-1c"
HOUR = 3600.0


def scenario(fleet: dict, horizon, services: dict | None = None, **extra):
    data = {"name": "sched", "horizon": horizon, "fleets": {"web": fleet},
            "services": services or {}, **extra}
    return validate_scenario(data, "test")


def intervals(result, state: str | None = None) -> pd.DataFrame:
    iv = result.tables["instance_intervals"]
    if state is not None:
        iv = iv[iv["state"] == state]
    return iv.set_index("instance_id").sort_index()


# --------------------------------------------------------------------------- 1a. exact times


@pytest.fixture(scope="module")
def up_and_down():
    """count 2; at 10 min desired 5; at 30 min desired 1; boot 40 s; no services; 1 h."""
    sc = scenario({"instance_type": "m5.large", "count": 2, "boot_time": "40 s",
                   "scheduled_actions": [{"name": "up", "at": "10 min", "desired": 5},
                                         {"name": "down", "at": "30 min", "desired": 1}]},
                  "1 h")
    return run(sc, seed=3)


def test_instance_ids_launch_numbers_and_azs(up_and_down):
    pending = intervals(up_and_down, "pending")
    assert list(pending.index) == [f"i-web-{k:04d}" for k in range(5)]
    assert list(pending["launch"]) == [0, 1, 2, 3, 4]
    # at 0: a, b; at 600 s the AZs hold a:1 b:1 c:0 -> c, then a (tie, earlier), then b
    assert list(pending["az"]) == [A, B, C, A, B]


def test_launch_and_boot_times_are_exact(up_and_down):
    pending, running = intervals(up_and_down, "pending"), intervals(up_and_down, "running")
    assert list(pending["start_s"]) == [0.0, 0.0, 600.0, 600.0, 600.0]
    assert list(pending["end_s"]) == [40.0, 40.0, 640.0, 640.0, 640.0]
    assert (pending["end_cause"] == "booted").all()
    assert list(running["start_s"]) == [40.0, 40.0, 640.0, 640.0, 640.0]


def test_scale_in_takes_the_az_with_most_newest_first(up_and_down):
    # before 1800 s: a {0, 3}, b {1, 4}, c {2}.  Four victims:
    #   a and b tie at 2, b holds the newest (4) -> 4;  then a has 2 -> 3;
    #   a, b, c tie at 1, c holds the newest (2) -> 2;  then a, b tie, b holds 1 -> 1.
    running = intervals(up_and_down, "running")
    ended = running[running["end_cause"] == "scaled_in"]
    assert sorted(ended.index) == ["i-web-0001", "i-web-0002", "i-web-0003", "i-web-0004"]
    assert (ended["end_s"] == 1800.0).all()
    survivor = running.loc["i-web-0000"]
    assert survivor["end_s"] == 3600.0 and survivor["end_cause"] == "end_of_run"
    # scale-in without a load balancer terminates at once: no state after running
    assert set(up_and_down.tables["instance_intervals"]["state"]) == {"pending", "running"}
    vol = up_and_down.tables["volume_intervals"].set_index("instance_id").sort_index()
    assert list(vol["end_s"]) == [3600.0, 1800.0, 1800.0, 1800.0, 1800.0]


def test_scaling_activities_rows(up_and_down):
    act = up_and_down.tables["scaling_activities"]
    expected = pd.DataFrame({
        "fleet": ["web"] * 3,
        "time_s": [0.0, 600.0, 1800.0],
        "desired": [2, 5, 1],
        "min_size": [0, 0, 0],
        "max_size": [-1, -1, -1],
        "launched": [2, 3, 0],
        "terminated": [0, 0, 4],
        "cause": ["initial", "scheduled_action:up", "scheduled_action:down"],
    })
    pd.testing.assert_frame_equal(act.reset_index(drop=True), expected, check_dtype=False)
    fleet = up_and_down.summary["fleet"]
    assert fleet["instances"] == 5 and fleet["peak_running"] == 5
    # running: 2 × (40 -> 1800) less the survivor's, + 3 × (640 -> 1800), + survivor to 3600
    hours = (1760 + 3 * 1160 + 3560) / HOUR
    assert fleet["instance_hours"] == pytest.approx(hours, rel=1e-12)


WEEKDAY_9H = [9 * HOUR + d * 24 * HOUR for d in range(5)]  # Mon..Fri 09:00 from Monday 00:00


def _weekdays(start: str | None = None, horizon: str = "7 d"):
    extra = {"start": start} if start else {}
    return scenario({"instance_type": "m5.large", "count": 1, "max_size": 4, "volume": None,
                     "scheduled_actions": [
                         {"name": "morning", "recurrence": "0 9 * * MON-FRI", "desired": 3},
                         {"name": "evening", "recurrence": "0 17 * * MON-FRI", "desired": 1}]},
                    horizon, **extra)


def test_cron_recurrence_fires_on_weekdays_only():
    sc = _weekdays()
    assert sc.start == dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # a Monday (the default)
    act = run(sc, seed=1).tables["scaling_activities"]
    morning = act[act["cause"] == "scheduled_action:morning"]
    evening = act[act["cause"] == "scheduled_action:evening"]
    assert list(morning["time_s"]) == WEEKDAY_9H  # 9 h, 33 h, 57 h, 81 h, 105 h
    assert list(evening["time_s"]) == [t + 8 * HOUR for t in WEEKDAY_9H]
    assert list(morning["launched"]) == [2] * 5 and list(evening["terminated"]) == [2] * 5
    # nothing on Saturday (120 h .. 144 h) or Sunday (144 h .. 168 h)
    assert not ((act["time_s"] >= 120 * HOUR) & (act["time_s"] < 168 * HOUR)).any()
    # the pure schedule agrees
    action = ScheduledAction(recurrence="0 9 * * MON-FRI", desired=3)
    assert list(action_times(action, sc.start, sc.horizon)) == WEEKDAY_9H


def test_cron_recurrence_follows_the_scenario_start():
    # Saturday 2026-01-10 06:30 UTC: the first weekday 09:00 is Monday 01-12, 2 d 2 h 30 min on
    sc = _weekdays(start="2026-01-10T06:30:00Z", horizon="3 d")
    act = run(sc, seed=1).tables["scaling_activities"]
    first = (2 * 24 + 2.5) * HOUR
    assert list(act["time_s"]) == [0.0, first, first + 8 * HOUR]


def test_cron_recurrence_start_and_end_bound_it():
    # every 10 minutes from 25 min to 55 min: 30, 40, 50 min
    action = ScheduledAction(recurrence="*/10 * * * *", start=25 * 60.0, end=55 * 60.0, desired=1)
    start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    assert list(action_times(action, start, HOUR)) == [1800.0, 2400.0, 3000.0]
    # end is inclusive, and nothing fires at or after the horizon
    action = ScheduledAction(recurrence="*/10 * * * *", start=25 * 60.0, end=50 * 60.0, desired=1)
    assert list(action_times(action, start, 2400.0)) == [1800.0]
    assert list(action_times(action, start, HOUR)) == [1800.0, 2400.0, 3000.0]


@pytest.mark.parametrize("expression", [
    "0 9 * * MON-FRI", "45 7 * * *", "*/20 8-10 * * SAT,SUN", "0 0 1,15 * *", "0 9 1-7 * MON",
    "30 */6 * * 0", "0 12 * 2 *", "15 3 */2 * 7",
])
def test_cron_times_agree_with_croniter(expression):
    """The vectorised minute-grid matcher against croniter's own iteration over 45 days."""
    from croniter import croniter

    start = dt.datetime(2026, 1, 5, 0, 0, 30, tzinfo=dt.UTC)  # not on a whole minute
    horizon = 45 * 24 * HOUR
    it, expected = croniter(expression, start), []
    while (t := (it.get_next(dt.datetime) - start).total_seconds()) < horizon:
        expected.append(t)
    action = ScheduledAction(recurrence=expression, desired=1)
    assert list(action_times(action, start, horizon)) == expected


def test_scenario_start_with_an_offset_is_read_as_utc():
    sc = scenario({"instance_type": "m5.large", "count": 1, "volume": None,
                   "scheduled_actions": [{"recurrence": "0 9 * * *", "desired": 2}]},
                  "1 h", start="2026-01-05T10:00:00+01:00")  # 09:00 UTC
    assert sc.start == dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    act = run(sc, seed=1).tables["scaling_activities"]
    assert list(act["time_s"]) == [0.0, 0.0] and list(act["desired"]) == [1, 2]


# --------------------------------------------------------------------------- 1b. billing

# count 2 (launches 0 in a, 1 in b at 0 s), boot 40 s, horizon 1001 s, 20 GiB gp3 each.
#   100 s desired 4: a 1, b 1, c 0 -> 2 in c, 3 in a; pending 100..140, running from 140
#   177 s desired 3: a holds 2 -> 3 ends; it ran 140..177 = 37 s (< 60 s: billed 60 s)
#   300 s desired 4: a 1, b 1, c 1 -> 4 in a; pending 300..
#   320 s desired 3: a holds 2 -> 4 ends while pending (never running: no EC2 charge)
#   413 s desired 1: a, b, c tie, c holds the newest -> 2; then a, b tie, b holds 1 -> 1
BILLING_ACTIONS = [{"at": "100 s", "desired": 4}, {"at": "177 s", "desired": 3},
                   {"at": "300 s", "desired": 4}, {"at": "320 s", "desired": 3},
                   {"at": "413 s", "desired": 1}]
RUNNING_S = {"i-web-0000": 1001 - 40, "i-web-0001": 413 - 40, "i-web-0002": 413 - 140,
             "i-web-0003": 177 - 140}
BILLED_EC2_S = {"i-web-0000": 961, "i-web-0001": 373, "i-web-0002": 273, "i-web-0003": 60}
VOLUME_LIFE_S = {"i-web-0000": 1001, "i-web-0001": 413, "i-web-0002": 413 - 100,
                 "i-web-0003": 177 - 100, "i-web-0004": 320 - 300}
BILLED_EBS_S = {"i-web-0000": 1001, "i-web-0001": 413, "i-web-0002": 313, "i-web-0003": 77,
                "i-web-0004": 60}
VOLUME_GIB = 20


@pytest.fixture(scope="module")
def billed():
    sc = scenario({"instance_type": "m5.large", "count": 2, "boot_time": "40 s",
                   "volume": {"type": "gp3", "size": f"{VOLUME_GIB} GiB"},
                   "scheduled_actions": BILLING_ACTIONS}, "1001 s")
    return run(sc, seed=5)


def test_billing_case_lifetimes_are_as_worked_out(billed):
    running = intervals(billed, "running")
    assert (running["end_s"] - running["start_s"]).to_dict() == RUNNING_S
    pending = intervals(billed, "pending")
    assert pending.loc["i-web-0004", "end_cause"] == "scaled_in"
    vol = billed.tables["volume_intervals"].set_index("instance_id")
    assert (vol["end_s"] - vol["start_s"]).to_dict() == VOLUME_LIFE_S


def test_ec2_is_billed_per_second_with_a_60_s_minimum_per_entry(billed):
    rate = 0.096 / 3600  # m5.large Linux on-demand, $/s
    book = load_pricebook("aws-us-east-1")
    assert book.on_demand_usd_per_s("m5.large", "linux") == pytest.approx(rate, rel=1e-12)
    items = billed.tables["cost"]
    ec2 = items[items["service"] == "ec2"].set_index("resource_id")
    assert sorted(ec2.index) == sorted(BILLED_EC2_S)  # 0004 never ran: no EC2 line
    for inst, seconds in BILLED_EC2_S.items():
        assert ec2.loc[inst, "quantity"] == pytest.approx(seconds, abs=1e-9)
        assert ec2.loc[inst, "usd"] == pytest.approx(seconds * rate, rel=1e-12)
    total = sum(BILLED_EC2_S.values()) * rate  # 1667 s
    assert billed.summary["cost"]["by_service"]["ec2"] == pytest.approx(total, rel=1e-12)


def test_ebs_is_billed_per_gb_month_over_the_volume_lifetime(billed):
    usd_per_gb_month = 0.08  # gp3, from the builtin price book
    book = load_pricebook("aws-us-east-1")
    assert book.ebs_rates("gp3").storage_usd_per_byte_s * GIB * MONTH == pytest.approx(
        usd_per_gb_month, rel=1e-12)
    items = billed.tables["cost"]
    ebs = items[items["service"] == "ebs"].set_index("resource_id")
    assert set(ebs["usage_type"]) == {"EBS:VolumeUsage.gp3"}  # baseline IOPS and throughput
    for inst, seconds in BILLED_EBS_S.items():
        gb_month = VOLUME_GIB * seconds / (730 * 3600)
        row = ebs.loc["vol-" + inst.removeprefix("i-")]
        assert row["quantity"] == pytest.approx(gb_month, rel=1e-12)
        assert row["usd"] == pytest.approx(gb_month * usd_per_gb_month, rel=1e-12)
    total_ebs = VOLUME_GIB * sum(BILLED_EBS_S.values()) / (730 * 3600) * usd_per_gb_month
    cost = billed.summary["cost"]
    assert cost["by_service"]["ebs"] == pytest.approx(total_ebs, rel=1e-12)
    total_ec2 = sum(BILLED_EC2_S.values()) * 0.096 / 3600
    assert cost["total_usd"] == pytest.approx(total_ec2 + total_ebs, rel=1e-12)


# --------------------------------------------------------------------------- 1c. validation


def _fleet(**changes) -> dict:
    return {"name": "bad", "horizon": "1 d",
            "fleets": {"web": {"instance_type": "m5.large", "count": 2, **changes}}}


def _problem(data) -> tuple[str, list[str]]:
    with pytest.raises(InputError) as info:
        validate_scenario(data, "bad.yaml")
    return str(info.value), [p.path for p in info.value.problems]


def test_an_action_colliding_with_a_cron_occurrence_is_refused():
    text, paths = _problem(_fleet(scheduled_actions=[
        {"name": "once", "at": "9 h", "desired": 3},
        {"name": "daily", "recurrence": "0 9 * * *", "desired": 4}]))
    assert paths == ["fleets.web.scheduled_actions"]
    assert "fleets.web.scheduled_actions" in text and "32400" in text


def test_a_later_collision_of_two_recurrences_is_refused():
    # hourly and 6-hourly at :00, both from 30 min on, first meet at 06:00
    text, paths = _problem(_fleet(scheduled_actions=[
        {"recurrence": "0 * * * *", "start": "30 min", "desired": 3},
        {"recurrence": "0 */6 * * *", "start": "30 min", "desired": 4}]))
    assert paths == ["fleets.web.scheduled_actions"] and "21600" in text  # at 06:00


def test_run_windows_together_with_scheduled_actions_are_refused():
    text, paths = _problem(_fleet(schedule=[{"start": "0 s", "stop": "1 h"}],
                                  scheduled_actions=[{"at": "9 h", "desired": 3}]))
    assert paths == ["fleets.web"] and "scheduled_actions" in text and "schedule" in text


def test_an_explicit_default_run_window_with_scheduled_actions_is_refused():
    # `schedule: [{start: 0 s}]` written out is still a schedule given with scheduled actions
    text, paths = _problem(_fleet(schedule=[{"start": "0 s"}],
                                  scheduled_actions=[{"at": "9 h", "desired": 3}]))
    assert paths == ["fleets.web"] and "scheduled_actions" in text


def test_desired_above_the_fleet_maximum_when_it_fires_is_refused():
    text, paths = _problem(_fleet(max_size=4, scheduled_actions=[{"at": "9 h", "desired": 6}]))
    assert paths == ["fleets.web.scheduled_actions.0"]
    assert "fleets.web.scheduled_actions.0" in text and "desired" in text


def test_desired_outside_bounds_set_by_an_earlier_action_is_refused():
    text, paths = _problem(_fleet(max_size=8, scheduled_actions=[
        {"at": "1 h", "max_size": 3}, {"at": "9 h", "desired": 5}]))
    assert paths == ["fleets.web.scheduled_actions.1"] and "desired" in text
    text, paths = _problem(_fleet(min_size=1, max_size=4, scheduled_actions=[
        {"at": "2 h", "desired": 3}, {"recurrence": "0 9 * * *", "desired": 0}]))
    assert paths == ["fleets.web.scheduled_actions.1"] and "desired" in text


def test_desired_outside_its_own_bounds_is_refused():
    text, paths = _problem(_fleet(scheduled_actions=[{"at": "9 h", "desired": 3, "min_size": 4}]))
    assert paths == ["fleets.web.scheduled_actions.0"] and "min_size" in text


# --------------------------------------------------------------------------- 1d. health checks

HC_INTERVAL, HC_THRESHOLD = 10.0, 3  # in service 30 s after entering running


@pytest.fixture(scope="module")
def checked():
    """count 1 (running at 20 s), at 100 s desired 2 (running at 120 s); checks 3 × 10 s."""
    services = {"api": {
        "fleet": "web", "arrivals": {"process": "poisson", "rate": "50/s"},
        "service_time": {"dist": "exponential", "mean": "20 ms"},
        "load_balancer": {"policy": "round_robin",
                          "health_check": {"interval": "10 s", "healthy_threshold": 3}}}}
    sc = scenario({"instance_type": "m5.large", "count": 1, "boot_time": "20 s", "volume": None,
                   "scheduled_actions": [{"at": "100 s", "desired": 2}]},
                  "300 s", services, output={"requests": True, "observe_interval": "30 s"})
    return run(sc, seed=11)


def _target_states(result) -> pd.DataFrame:
    return result.tables["target_intervals"].sort_values(["instance_id", "start_s"])


def test_target_is_healthy_exactly_interval_times_threshold_after_running(checked):
    running = intervals(checked, "running")
    tg = _target_states(checked)
    for inst in ("i-web-0000", "i-web-0001"):
        t_run = running.loc[inst, "start_s"]
        mine = tg[tg["instance_id"] == inst]
        assert list(mine["state"]) == ["initial", "healthy"]
        initial, healthy = mine.iloc[0], mine.iloc[1]
        assert initial["start_s"] == t_run
        assert healthy["start_s"] == initial["end_s"] == t_run + HC_INTERVAL * HC_THRESHOLD
        assert healthy["end_s"] == 300.0
    assert running.loc["i-web-0000", "start_s"] == 20.0
    assert running.loc["i-web-0001", "start_s"] == 120.0


def test_no_request_is_served_before_its_target_is_in_service(checked):
    req = checked.tables["requests"]
    accepted = req[req["outcome"] != "rejected"]
    in_service = {"i-web-0000": 50.0, "i-web-0001": 150.0}
    for inst, t0 in in_service.items():
        mine = accepted[accepted["instance_id"] == inst]
        assert len(mine) > 0
        assert (mine["arrival_s"] >= t0).all() and (mine["start_s"] >= t0).all()
    assert set(accepted["instance_id"]) == set(in_service)


def test_rejections_happen_only_while_no_target_is_in_service(checked):
    req = checked.tables["requests"]
    rejected = req["outcome"] == "rejected"
    # 0 .. 50 s: no target in service, every arrival is rejected; from 50 s none is
    assert (rejected == (req["arrival_s"] < 50.0)).all()
    assert rejected.sum() > 0
    assert req.loc[rejected, "instance_id"].isna().all()
    assert req.loc[rejected, ["start_s", "done_s"]].isna().all().all()
    assert checked.summary["requests"]["rejected"] == int(rejected.sum())
    assert checked.summary["requests"]["failed"] == 0


# --------------------------------------------------------------------------- 1e. deregistration
# Deterministic load: constant arrivals 60/s round robin over 3 m5.xlarge (4 vCPUs), fixed
# 80 ms requests.  Each instance receives one request every 50 ms, each staying 80 ms, so it
# always holds 1 or 2 and never queues; the victim of the scale-in 3 -> 2 at T holds work.
# Victim: a, b, c tie at 1, c holds the newest -> i-web-0002.

T_IN = 120.0
VICTIM = "i-web-0002"
WORK_S = 0.08


def _draining(delay: str):
    services = {"api": {
        "fleet": "web", "arrivals": {"process": "constant", "rate": "60/s"},
        "service_time": {"dist": "fixed", "value": "80 ms"},
        "load_balancer": {"policy": "round_robin", "deregistration_delay": delay}}}
    sc = scenario({"instance_type": "m5.xlarge", "count": 3, "volume": None,
                   "scheduled_actions": [{"at": f"{T_IN:g} s", "desired": 2}]},
                  "200 s", services, output={"requests": True, "observe_interval": "10 s"})
    return run(sc, seed=2)


@pytest.fixture(scope="module")
def cut():
    return _draining("0 s")


@pytest.fixture(scope="module")
def drained():
    return _draining("300 s")


@pytest.fixture(scope="module")
def short_delay():
    return _draining("30 ms")


def _end(result, inst: str) -> float:
    running = intervals(result, "running")
    return float(running.loc[inst, "end_s"])


def test_zero_delay_cuts_in_flight_work(cut):
    running = intervals(cut, "running")
    assert running.loc[VICTIM, "end_cause"] == "scaled_in"
    assert _end(cut, VICTIM) == T_IN
    req = cut.tables["requests"]
    failed = req[req["outcome"] == "failed"]
    assert 1 <= len(failed) <= 2  # what the victim held at T (see the load above)
    assert cut.summary["requests"]["failed"] == len(failed)
    assert (failed["instance_id"] == VICTIM).all()
    assert (failed["done_s"] == T_IN).all()  # cut when the instance ended
    mine = req[req["instance_id"] == VICTIM]
    would_finish = mine["start_s"] + mine["service_s"]
    # exactly the victim's requests that would have completed after it ended failed
    assert ((mine["outcome"] == "failed") == (would_finish > T_IN)).all()
    assert (mine.loc[mine["outcome"] == "served", "done_s"] <= T_IN).all()
    assert cut.summary["latency"]["failed"] == len(failed)


def test_long_delay_drains_everything_and_terminates_at_the_last_completion(drained):
    req = drained.tables["requests"]
    assert drained.summary["requests"]["failed"] == 0
    assert (req["outcome"] == "served").all()
    mine = req[req["instance_id"] == VICTIM]
    last = float(mine["done_s"].max())
    assert last > T_IN  # it held work at T
    assert _end(drained, VICTIM) == last
    assert (mine["arrival_s"] < T_IN).all()  # no new request after deregistration
    tg = _target_states(drained)
    mine_tg = tg[tg["instance_id"] == VICTIM]
    assert list(mine_tg["state"]) == ["healthy", "draining"]
    assert mine_tg.iloc[1]["start_s"] == T_IN and mine_tg.iloc[1]["end_s"] == last


def test_short_delay_ends_the_instance_at_the_delay_and_cuts_the_rest(short_delay):
    delay = 0.03
    assert _end(short_delay, VICTIM) == pytest.approx(T_IN + delay, abs=1e-9)
    req = short_delay.tables["requests"]
    mine = req[req["instance_id"] == VICTIM]
    would_finish = mine["start_s"] + mine["service_s"]
    end = _end(short_delay, VICTIM)
    assert ((mine["outcome"] == "failed") == (would_finish > end)).all()
    assert (mine.loc[mine["outcome"] == "failed", "done_s"] == end).all()
    assert short_delay.summary["requests"]["failed"] == int((mine["outcome"] == "failed").sum())


def test_the_remaining_targets_take_all_new_requests(cut):
    req = cut.tables["requests"]
    after = req[req["arrival_s"] >= T_IN]
    assert len(after) > 0 and (after["outcome"] == "served").all()
    assert set(after["instance_id"]) == {"i-web-0000", "i-web-0001"}


# --------------------------------------------------------------------------- 1f. rejections + SLO

SLO_S = 0.05


@pytest.fixture(scope="module")
def cold_start():
    """Booting for the first 30 s rejects everything; a 0 s-delay scale-in cuts some work."""
    services = {"api": {
        "fleet": "web", "arrivals": {"process": "poisson", "rate": "150/s"},
        "service_time": {"dist": "exponential", "mean": "20 ms"}, "slo": f"{SLO_S * 1000:g} ms",
        "load_balancer": {"policy": "least_outstanding", "deregistration_delay": "0 s"}}}
    sc = scenario({"instance_type": "m5.large", "count": 2, "boot_time": "30 s", "volume": None,
                   "scheduled_actions": [{"at": "100 s", "desired": 1}]},
                  "200 s", services, output={"requests": True, "observe_interval": "20 s"})
    return run(sc, seed=17)


def test_cold_start_rejects_exactly_the_first_seconds(cold_start):
    req = cold_start.tables["requests"]
    assert ((req["outcome"] == "rejected") == (req["arrival_s"] < 30.0)).all()


def test_slo_violation_fraction_counts_rejected_and_failed(cold_start):
    req = cold_start.tables["requests"]
    served = req["outcome"] == "served"
    slow = int((served & (req["latency_s"] > SLO_S)).sum())
    rejected = int((req["outcome"] == "rejected").sum())
    failed = int((req["outcome"] == "failed").sum())
    arrivals = len(req)
    lat, reqs = cold_start.summary["latency"], cold_start.summary["requests"]
    assert rejected > 0
    assert lat["slo_violation_fraction"] == pytest.approx((slow + rejected + failed) / arrivals,
                                                          rel=1e-12)
    assert (reqs["arrivals"], reqs["served"], reqs["rejected"], reqs["failed"]) == (
        arrivals, int(served.sum()), rejected, failed)
    assert reqs["rejected_fraction"] == pytest.approx(rejected / arrivals, rel=1e-12)
    assert reqs["failed_fraction"] == pytest.approx(failed / arrivals, rel=1e-12)
    assert lat["mean_s"] == pytest.approx(req.loc[served, "latency_s"].mean(), rel=1e-9)
    si = cold_start.tables["service_intervals"]
    assert int(si["slo_violations"].sum()) == slow + rejected + failed
    # rejected counted by arrival interval: all in the intervals before 30 s
    assert int(si.loc[si["end_s"] <= 40.0, "rejected"].sum()) == rejected
    assert np.isnan(req.loc[~served, "latency_s"]).all()
