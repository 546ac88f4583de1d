"""The shipped sample data is exactly what the seeded generator writes."""

import runpy

import pandas as pd

from tests.conftest import REPO

TEMPLATE_RAW = REPO / "starters/mlops/{{ cookiecutter.repo_name }}/data/01_raw"


def test_shipped_files_equal_the_generator_output(tmp_path):
    generator = runpy.run_path(str(REPO / "scripts/make_sample_data.py"))
    written = generator["generate"](tmp_path)
    assert sorted(p.name for p in written) == sorted(
        p.name for p in TEMPLATE_RAW.iterdir()
    )
    for path in written:
        shipped = TEMPLATE_RAW / path.name
        if path.suffix == ".parquet":  # its bytes name the pyarrow that wrote it
            pd.testing.assert_frame_equal(
                pd.read_parquet(path), pd.read_parquet(shipped)
            )
        else:
            assert path.read_bytes() == shipped.read_bytes(), path.name


def test_the_parquet_batches_are_their_csv_as_pandas_reads_it():
    for batch in ("batch_production", "batch_control"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(TEMPLATE_RAW / f"{batch}.parquet"),
            pd.read_csv(TEMPLATE_RAW / f"{batch}.csv"),
        )


def test_sample_data_is_realistic():
    customers = pd.read_csv(TEMPLATE_RAW / "customers.csv")
    assert len(customers) >= 5000
    assert customers.isna().any().sum() >= 2  # some columns have missing values
    assert customers.select_dtypes("number").shape[1] >= 4
    assert 0.1 < (customers["churned"] == "yes").mean() < 0.5
    for batch in ("batch_production.csv", "batch_control.csv"):
        frame = pd.read_csv(TEMPLATE_RAW / batch)
        assert "churned" not in frame.columns
        assert set(frame.columns) == set(customers.columns) - {"churned"}


def test_each_batch_has_the_labels_of_its_customers():
    """The true outcomes arrive later, one per scored customer, both classes."""
    for batch in ("production", "control"):
        frame = pd.read_csv(TEMPLATE_RAW / f"batch_{batch}.csv")
        labels = pd.read_csv(TEMPLATE_RAW / f"labels_{batch}.csv")
        assert list(labels.columns) == ["customer_id", "churned"]
        assert labels["customer_id"].is_unique
        assert set(labels["customer_id"]) == set(frame["customer_id"])
        assert set(labels["churned"]) == {"yes", "no"}
        assert 0.1 < (labels["churned"] == "yes").mean() < 0.6
