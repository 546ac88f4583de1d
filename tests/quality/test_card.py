"""The model card of a registered version, against a real sqlite MLflow store."""

from __future__ import annotations

import base64
import json
import re

import pytest

from kedro_mlops.config import RegistryConfig
from kedro_mlops.quality.card import build_card, write_model_card
from kedro_mlops.tracking.registry import register_and_promote
from tests.quality.runs import png, training_run


@pytest.fixture
def client(tracking_uri):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri)


def _registered(client, run_id: str):
    result = register_and_promote(client, run_id, RegistryConfig(model_name="churn"))
    assert result is not None and result.version
    return result


def _card_files(client, run_id: str, tmp_path) -> tuple[str, str]:
    folder = client.download_artifacts(run_id, "model_card", str(tmp_path / "card"))
    html = (tmp_path / "card/model_card/model_card.html").read_text(encoding="utf-8")
    markdown = (tmp_path / "card/model_card/model_card.md").read_text(encoding="utf-8")
    assert folder.endswith("model_card")
    return html, markdown


def test_a_full_run_gets_a_card_with_every_section_and_a_linked_description(
    client, tmp_path
):
    # given a registered version whose run logged the whole quality contract
    run_id = training_run({"test.roc_auc": 0.83}, folder=tmp_path / "logged")
    result = _registered(client, run_id)
    # when its card is written
    write_model_card(client, run_id, "churn", result.version, summary=result.summary())
    # then the run holds the page and its Markdown twin
    html, markdown = _card_files(client, run_id, tmp_path)
    facts = [
        "Model card: churn v1",
        "and now champion (there was none)",  # the registry's decision
        "4f2a9c1e",  # git commit
        "0cc175b9c0f1b6a831c399e269772661",  # the raw data's md5
        "train.C",  # a training parameter
        "over 3 trials: best score 0.8312",
        "max_depth=4",
        "Accuracy 0.8100 against 0.7300 for the majority-class baseline (+0.0800)",
        "Brier score 0.1432",
        "isotonic",
        "0.3700",  # the threshold
        "expected cost",
        "contract",  # the most important feature
        "1 of 1 slices flagged",
        "month-to-month",
        "25 rows of 2 columns",
        "tenure_months, contract",
    ]
    for fact in facts:
        assert fact in html, fact
        assert fact in markdown, fact
    assert "Not logged" not in html + markdown
    # the page is self-contained: both images inline, nothing to fetch
    for image in (png(4, 3), png(5, 2)):
        assert f"data:image/png;base64,{base64.b64encode(image).decode()}" in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert "default-src 'none'" in html
    # the Markdown links its images to the run's own artifacts
    assert "](../quality/reliability.png)" in markdown
    assert "](../quality/permutation_importance.png)" in markdown
    # and the registered version's description links to the card
    description = client.get_model_version("churn", result.version).description
    assert description.startswith("Model card: [model_card.html](#/experiments/")
    assert f"runs:/{run_id}/model_card/model_card.html" in description


def test_a_run_without_the_quality_names_gets_a_card_that_says_so(client, tmp_path):
    # given a run that logged a model and one metric only
    run_id = training_run({"test.roc_auc": 0.83})
    result = _registered(client, run_id)
    # when its card is written
    card = write_model_card(client, run_id, "churn", result.version)
    # then every section that has nothing says what the run did not log
    missing = {
        section.title: " ".join(getattr(b, "text", "") for b in section.blocks)
        for section in card.sections
    }
    assert "mlops.lineage.*" in missing["Data lineage"]
    assert "no parameter" in missing["Training parameters"]
    assert "quality/tuning.json" in missing["Tuning"]
    assert "test.baseline_accuracy" in missing["Metrics (test set)"]
    assert "test.brier_score" in missing["Calibration"]
    assert "quality/calibration.json" in missing["Calibration"]
    assert "quality/reliability.png" in missing["Calibration"]
    assert "quality/threshold.json" in missing["Decision threshold"]
    assert "quality/permutation_importance.csv" in missing["Feature importance"]
    assert "quality/permutation_importance.png" in missing["Feature importance"]
    assert "quality/slices.json" in missing["Flagged slices"]
    assert "reference/reference_sample.parquet" in missing["Drift reference"]
    html, markdown = _card_files(client, run_id, tmp_path)
    assert html.count("Not logged: the run has no") == 11
    assert markdown.count("> Not logged: the run has no") == 11
    assert "test.roc_auc" in html  # what it did log is there
    assert "<img" not in html


def test_an_unreadable_artifact_is_named_and_the_card_goes_on(client, tmp_path):
    import mlflow

    # given a run whose tuning summary is not JSON
    with mlflow.start_run() as run:
        bad = tmp_path / "tuning.json"
        bad.write_text("{not json")
        mlflow.log_artifact(str(bad), "quality")
        mlflow.log_metric("test.accuracy", 0.8)
    card = build_card(client, run.info.run_id, "churn", "3")
    # then the tuning section names the file and the problem, the rest is there
    (tuning,) = [s for s in card.sections if s.title == "Tuning"]
    assert tuning.blocks[0].text.startswith(
        "quality/tuning.json could not be read (JSONDecodeError:"
    )
    assert "test.accuracy" in card.markdown()


def test_a_description_is_kept_and_the_link_is_added_once(client, tmp_path):
    run_id = training_run({"test.roc_auc": 0.83})
    result = _registered(client, run_id)
    client.update_model_version("churn", result.version, description="Q3 retrain.")
    write_model_card(client, run_id, "churn", result.version)
    write_model_card(client, run_id, "churn", result.version)  # again
    description = client.get_model_version("churn", result.version).description
    assert description.startswith("Q3 retrain.\n\nModel card: ")
    assert description.count("Model card:") == 1


def test_the_card_reads_the_tuning_trials_best_first(client, tmp_path):
    run_id = training_run({"test.roc_auc": 0.83}, folder=tmp_path / "logged")
    card = build_card(client, run_id, "churn", "1")
    (tuning,) = [s for s in card.sections if s.title == "Tuning"]
    trials = tuning.blocks[-1]
    # the pruned trial (no score) is left out; the best one comes first
    assert [row[0] for row in trials.rows] == ["1", "0"]
    logged = json.loads(
        (tmp_path / "logged/quality/tuning.json").read_text(encoding="utf-8")
    )
    assert trials.rows[0][1] == f"{logged['best_score']:.4f}"
