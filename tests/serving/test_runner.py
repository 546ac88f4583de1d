"""ServingRunner: quiet runs (with the serving patches), 4xx for bad input, one
shared empty hook manager (with the serving patches), one run at a time."""

from __future__ import annotations

import copy
import logging
import pickle
import threading
import time

import pandas as pd
import pytest
from kedro.framework.hooks import _create_hook_manager
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro_mlflow.mlflow import KedroPipelineModel
from kedro_mlflow.mlflow import kedro_pipeline_model as kpm_module
from mlflow.exceptions import MlflowException

from kedro_mlops import patches
from kedro_mlops.patches import SharedEmptyHookManager
from kedro_mlops.serving import ServingRunner


def _check(batch: pd.DataFrame) -> pd.DataFrame:
    if "age" not in batch.columns:
        raise ValueError("column 'age' is missing")
    return batch


def _score(batch: pd.DataFrame, offset: int) -> pd.DataFrame:
    if offset < 0:
        raise RuntimeError("a bug in a node")
    return batch.assign(score=batch["age"] + offset)


def _model(offset: int = 1) -> KedroPipelineModel:
    inference = Pipeline(
        [
            Node(_check, "batch", "checked", name="check"),
            Node(_score, ["checked", "params:offset"], "scores", name="score"),
        ]
    )
    catalog = DataCatalog(
        {"batch": MemoryDataset(), "params:offset": MemoryDataset(offset)}
    )
    model = KedroPipelineModel(
        inference, catalog, input_name="batch", runner=ServingRunner()
    )
    model.loaded_catalog["params:offset"].save(offset)  # what load_context does
    # as MLflow stores and loads it
    return pickle.loads(pickle.dumps(model))


def _predict(model: KedroPipelineModel, batch: pd.DataFrame) -> pd.DataFrame:
    return model.predict(None, batch, params={"runner": "ServingRunner"})


def test_predict_runs_the_nodes_without_kedro_node_logging(caplog):
    patches.install("serving")
    model = _model(offset=2)
    with caplog.at_level(logging.DEBUG):
        scores = _predict(model, pd.DataFrame({"age": [30, 40]}))
    assert scores["score"].tolist() == [32, 42]
    assert not [r for r in caplog.records if r.name == "kedro.pipeline.node"]
    assert "Running node" not in caplog.text


def test_bad_input_is_an_invalid_parameter_error_without_trace(caplog):
    with pytest.raises(MlflowException) as error:
        _predict(_model(), pd.DataFrame({"height": [180]}))
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"
    assert error.value.get_http_status_code() == 400
    assert "column 'age' is missing" in error.value.message
    assert "Traceback" not in error.value.message


def test_a_bug_is_an_internal_error_logged_on_the_server(caplog):
    with pytest.raises(MlflowException) as error:
        _predict(_model(offset=-1), pd.DataFrame({"age": [30]}))
    assert error.value.error_code == "INTERNAL_ERROR"
    assert "node 'score'" in error.value.message
    assert "a bug in a node" not in error.value.message  # the client sees no details
    assert "a bug in a node" in caplog.text  # the server log has them


def test_predict_reuses_one_empty_hook_manager():
    patches.install("serving")
    _model()
    create = kpm_module._create_hook_manager
    assert isinstance(create, SharedEmptyHookManager)
    first = create()
    assert create() is first
    assert first.hook.before_node_run.spec is not None  # Kedro's hook specs are there
    # predictions are unchanged, request after request
    model = _model(offset=5)
    for _ in range(3):
        assert _predict(model, pd.DataFrame({"age": [1]}))["score"].tolist() == [6]
    assert create() is first


def test_a_manager_with_plugins_is_never_shared():
    create = SharedEmptyHookManager(_create_hook_manager)
    manager = create()

    class Plugin:
        pass

    manager.register(Plugin())
    fresh = create()
    assert fresh is not manager and not fresh.get_plugins()
    assert create() is fresh


def test_installing_twice_wraps_once():
    patches.install("serving")
    wrapped = kpm_module._create_hook_manager
    patches.install("serving")
    assert kpm_module._create_hook_manager is wrapped
    assert not isinstance(wrapped.create, SharedEmptyHookManager)


def test_concurrent_requests_run_the_pipeline_one_at_a_time():
    running, most = [0], [0]
    guard = threading.Lock()

    def slow(batch: pd.DataFrame) -> pd.DataFrame:
        with guard:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)  # without the runner's lock the threads overlap here
        with guard:
            running[0] -= 1
        return batch.assign(score=batch["age"])

    runner = copy.deepcopy(ServingRunner())  # copied as the model's runner is
    catalog = DataCatalog({"batch": MemoryDataset(pd.DataFrame({"age": [7]}))})
    pipeline = Pipeline([Node(slow, "batch", "scores", name="slow")])
    results = []

    def request() -> None:
        results.append(runner.run(pipeline, catalog)["scores"].load())

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1
    assert [r["score"].tolist() for r in results] == [[7]] * 4
