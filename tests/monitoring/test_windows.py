"""Windows of captured traffic: grouping, selection, older schemas, empty windows, no files."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pandas as pd
import pytest
from kedro_datasets.partitions import PartitionedDataset

from kedro_mlops.monitoring import NoCapturedTrafficError, Window, load_windows
from tests.monitoring.captured import STARTER_DATA, made_up_scores, write_captured

T = datetime(2024, 5, 1, tzinfo=UTC)


def at(hour: int) -> datetime:
    return T.replace(hour=hour)


def captured_dataset(root) -> PartitionedDataset:
    """The starter's catalog entry, on ``root``."""
    return PartitionedDataset(
        path=str(root), dataset="pandas.ParquetDataset", filename_suffix=".parquet"
    )


@pytest.fixture(scope="module")
def batch() -> pd.DataFrame:
    return made_up_scores(pd.read_csv(STARTER_DATA / "batch_control.csv").head(40))


def test_partitions_are_grouped_into_the_last_complete_windows(tmp_path, batch):
    # given files in hours 01..09, two in hour 04, and one in the open window (12)
    for hour in range(1, 10):
        write_captured(tmp_path, batch.head(hour), at(hour))
    write_captured(tmp_path, batch.head(5), at(4), seq=2)
    write_captured(tmp_path, batch, at(12))
    (tmp_path / "hour=2024-05-01T05" / "x.parquet.partial").write_bytes(b"PAR1")
    # when windows of 3 hours are selected at 12:40
    frames, summary = load_windows(
        captured_dataset(tmp_path).load(),
        window_hours=3,
        windows=3,
        end="2024-05-01T12:40",
    )
    # then the last three complete windows are 03-06, 06-09, 09-12 (the open one waits)
    assert [w["window"] for w in summary["windows"]] == [
        "2024-05-01T03",
        "2024-05-01T06",
        "2024-05-01T09",
    ]
    # and each holds the rows of its hours' files (the .partial one is left out)
    assert {key: len(frame) for key, frame in frames.items()} == {
        "2024-05-01T03": 3 + 4 + 5 + 5,
        "2024-05-01T06": 6 + 7 + 8,
        "2024-05-01T09": 9,
    }
    assert [w["files"] for w in summary["windows"]] == [4, 3, 1]
    assert summary["windows"][0]["step"] == int(at(3).timestamp())


def test_windows_start_at_fixed_hours_and_end_before_the_end():
    window = Window.of(datetime(2024, 5, 1, 23, 59, tzinfo=UTC), hours=6)
    assert (window.key, window.end) == (
        "2024-05-01T18",
        datetime(2024, 5, 2, tzinfo=UTC),
    )
    assert Window.from_key("2024-05-01T18", 6) == window


def test_a_column_missing_from_older_files_is_null_there_and_reported(
    tmp_path, batch, caplog
):
    # given an older file without `region`, and a newer one with a new column
    write_captured(tmp_path, batch.drop(columns=["region"]).head(10), at(8))
    newer = batch.head(20).assign(device="mobile")
    write_captured(tmp_path, newer, at(9))
    # when the windows are loaded
    with caplog.at_level(logging.WARNING, logger="kedro_mlops.monitoring"):
        frames, summary = load_windows(
            captured_dataset(tmp_path).load(), windows=2, end=at(10)
        )
    # then the older rows have neither, and that is reported with their rows
    assert frames["2024-05-01T08"][["region", "device"]].isna().all().all()
    assert frames["2024-05-01T09"]["region"].notna().all()
    assert summary["missing_columns"] == {"device": 10, "region": 10}
    assert list(frames["2024-05-01T08"].columns) == list(newer.columns) + [
        "_captured_at",
        "_model_name",
        "_model_version",
        "_request_id",
    ]
    assert "region (10 rows)" in caplog.text


def test_a_column_the_newest_files_dropped_is_left_out_with_one_warning(
    tmp_path, batch, caplog
):
    # given two older files with a `legacy_score` column the newest file lacks
    write_captured(tmp_path, batch.head(5).assign(legacy_score=1.0), at(7))
    write_captured(tmp_path, batch.head(5).assign(legacy_score=2.0), at(8))
    write_captured(tmp_path, batch.head(5), at(9))
    with caplog.at_level(logging.WARNING, logger="kedro_mlops.monitoring"):
        frames, summary = load_windows(
            captured_dataset(tmp_path).load(), windows=3, end=at(10)
        )
    assert all("legacy_score" not in frame for frame in frames.values())
    assert summary["dropped_columns"] == {"legacy_score": 10}
    warnings = [r for r in caplog.records if "legacy_score" in r.getMessage()]
    assert len(warnings) == 1


def test_a_window_without_traffic_has_no_frame_and_zero_rows(tmp_path, batch):
    write_captured(tmp_path, batch, at(7))
    write_captured(tmp_path, batch, at(9))
    frames, summary = load_windows(
        captured_dataset(tmp_path).load(), windows=3, end=at(10)
    )
    assert sorted(frames) == ["2024-05-01T07", "2024-05-01T09"]
    assert [(w["window"], w["rows"], w["files"]) for w in summary["windows"]] == [
        ("2024-05-01T07", 40, 1),
        ("2024-05-01T08", 0, 0),
        ("2024-05-01T09", 40, 1),
    ]


def test_only_the_selected_windows_files_are_read(batch):
    read = []

    def loader(key):
        def load():
            read.append(key)
            return batch

        return load

    partitions = {f"hour=2024-05-01T{h:02d}/f": loader(h) for h in range(24)}
    load_windows(partitions, windows=2, end=at(12))
    assert sorted(read) == [10, 11]


def test_no_captured_file_says_where_and_how_to_capture(tmp_path):
    # a folder with files still being written only
    (tmp_path / "hour=2024-05-01T05").mkdir()
    partitions = {"hour=2024-05-01T05/x.parquet.partial": pd.DataFrame}
    with pytest.raises(NoCapturedTrafficError) as error:
        load_windows(partitions, path="data/09_monitoring/captured")
    message = str(error.value)
    assert "No captured traffic in data/09_monitoring/captured" in message
    assert "serving.capture.enabled" in message and "mlops.yml" in message


def test_traffic_only_outside_the_windows_names_the_newest_hour(batch):
    partitions = {"hour=2024-04-01T05/f": lambda: batch}
    with pytest.raises(NoCapturedTrafficError) as error:
        load_windows(partitions, windows=24, end=at(12))
    assert "the newest captured hour is 2024-04-01 05:00 UTC" in str(error.value)
    assert "monitoring.windows" in str(error.value)
