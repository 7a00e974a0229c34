"""The recorder's tables: typed by the record's annotations, whatever form the rows took."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest

from simulator.engine.recorder import Recorder, arrow_schema, rows_frame
from simulator.records import InstanceInterval, ScalingActivity


class Odd(NamedTuple):
    TABLE = "odd"
    name: str
    payload: object  # not a column type the schema knows: pandas infers it


def test_rows_and_plain_tuples_give_the_same_frame_as_pandas():
    rows = [InstanceInterval("i-web-0000", "web", 0, "m5.large", "a", "on_demand", "linux",
                             "pending", 0.0, 30.0, "booted"),
            ("i-web-0000", "web", 0, "m5.large", "a", "on_demand", "linux", "running", 30.0,
             90.5, "scaled_in")]
    frame = rows_frame(InstanceInterval, rows)
    expected = pd.DataFrame.from_records(rows, columns=list(InstanceInterval._fields))
    pd.testing.assert_frame_equal(frame, expected)


def test_an_empty_table_has_its_columns_typed():
    frame = rows_frame(ScalingActivity, [])
    assert list(frame.columns) == list(ScalingActivity._fields)
    assert frame["time_s"].dtype == np.float64
    assert frame["desired"].dtype == np.int64
    assert pd.api.types.is_string_dtype(frame["cause"])


def test_a_value_of_the_wrong_type_names_the_record():
    bad = ("web", "soon", 1, 0, 2, 1, 0, "initial")
    with pytest.raises(TypeError, match="ScalingActivity record does not match"):
        rows_frame(ScalingActivity, [bad])


def test_unknown_annotations_fall_back_to_pandas_inference():
    assert arrow_schema(Odd) is None
    frame = rows_frame(Odd, [Odd("x", {"a": 1})])
    assert frame.loc[0, "payload"] == {"a": 1}


def test_recorder_tables_mix_rows_and_column_batches():
    rec = Recorder()
    append = rec.appender(ScalingActivity)
    append(("web", 0.0, 2, 0, 5, 2, 0, "initial"))
    rec.add_columns(ScalingActivity, {
        "fleet": np.array(["web"]), "time_s": np.array([60.0]), "desired": np.array([0]),
        "min_size": np.array([0]), "max_size": np.array([5]), "launched": np.array([0]),
        "terminated": np.array([2]), "cause": np.array(["scheduled_action:0"])})
    frame = rec.tables()["scaling_activities"]
    assert frame["time_s"].tolist() == [0.0, 60.0]
    assert frame["terminated"].tolist() == [0, 2]
