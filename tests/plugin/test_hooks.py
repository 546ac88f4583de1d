"""The plugin's hooks, called as Kedro calls them: on a fake context that holds a
real config loader, with real catalogs and pipelines, against a real sqlite
MLflow store (the ``tracking_uri`` fixture)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, TypedDict

import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.framework.hooks import hook_impl
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Node, Pipeline
from kedro_datasets.pickle import PickleDataset
from omegaconf import OmegaConf
from pydantic import Field
from sklearn.linear_model import LogisticRegression

from kedro_mlops.config import MlopsConfigError
from kedro_mlops.drift.pipeline import CONFIG_DATASET
from kedro_mlops.drift.pipeline import create_pipeline as drift_check
from kedro_mlops.parameters import ParametersError
from kedro_mlops.plugin.hooks import BundleHooks, MlopsHooks, StoreHooks
from kedro_mlops.serving import bundle_model
from kedro_mlops.serving.estimators import SharedEstimator
from kedro_mlops.tracking.registry import RegistryError
from kedro_mlops.tracking.store import TrackingStoreError
from kedro_mlops.versioning.lineage import TAG_PREFIX
from tests.mlflow_models import log_constant_model

PACKAGE = "churn_model"


def _context(project: Path, files: dict[str, str] | None = None) -> SimpleNamespace:
    """What the hooks read of a KedroContext, with a real config loader.

    ``files`` maps a path under ``conf/`` (``base/mlops.yml``) to its YAML text.
    """
    for env_folder in ("base", "local"):
        (project / "conf" / env_folder).mkdir(parents=True, exist_ok=True)
    for name, text in (files or {}).items():
        (project / "conf" / name).write_text(text)
    loader = OmegaConfigLoader(
        conf_source=str(project / "conf"),
        base_env="base",
        default_run_env="local",
    )
    return SimpleNamespace(
        project_path=project, config_loader=loader, env=None, _package_name=PACKAGE
    )


def _configured(project: Path, mlops_yml: str | None = None) -> MlopsHooks:
    hooks = MlopsHooks()
    files = {"base/mlops.yml": mlops_yml} if mlops_yml else None
    hooks.after_context_created(_context(project, files))
    return hooks


def _kedro_run(
    hooks: MlopsHooks, project: Path, metrics: dict[str, float], log_model: bool = True
) -> str:
    """A `kedro run` as the hooks see it: kedro-mlflow opens the run before the
    pipeline starts, the nodes log metrics, kedro-mlflow logs the model and
    closes the run before ``after_pipeline_run``."""
    import mlflow

    with mlflow.start_run() as run:
        hooks.before_pipeline_run(_run_params(project), Pipeline([]), DataCatalog())
        mlflow.log_metrics(metrics)
        if log_model:
            log_constant_model()
    return run.info.run_id


def _run_params(project: Path) -> dict:
    return {
        "pipeline_names": ["training"],
        "env": "local",
        "project_path": str(project),
    }


def _pipeline_end(hooks: MlopsHooks, project: Path) -> None:
    hooks.after_pipeline_run(_run_params(project), Pipeline([]), DataCatalog())


# ------------------------------------------------------------ after_context_created


def test_context_hook_registers_resolvers_and_reads_mlops_yml(tmp_path):
    # given a project whose local environment refines conf/base/mlops.yml
    context = _context(
        tmp_path,
        {
            "base/mlops.yml": "registry:\n  metric: test.f1\n",
            "local/mlops.yml": "registry:\n  min_improvement: 0.01\n",
        },
    )
    hooks = MlopsHooks()
    # when the context is created
    hooks.after_context_created(context)
    # then mlflow.yml's resolvers name this project
    uri = OmegaConf.create({"uri": "sqlite:///${mlops.project_path:}/mlflow.db"}).uri
    assert uri == f"sqlite:///{tmp_path.resolve().as_posix()}/mlflow.db"
    # and the settings are both files merged, the model named after the package
    registry = hooks.config.registry
    assert (registry.metric, registry.min_improvement) == ("test.f1", 0.01)
    assert registry.model_name == PACKAGE
    # and MLflow's probes are patched before kedro-mlflow opens a run
    from mlflow.utils import databricks_utils

    assert getattr(databricks_utils._get_dbutils, "_kedro_mlops_patch", False)
    assert logging.getLogger("kedro_mlops").level == logging.INFO


def test_a_project_without_mlops_yml_gets_the_defaults(tmp_path):
    hooks = _configured(tmp_path)
    assert hooks.config.registry.metric == "test.roc_auc"
    assert hooks.config.drift.share_threshold == 0.5


def test_a_wrong_mlops_yml_stops_the_session_before_kedro_mlflows_hook(tmp_path):
    # given a typo in mlops.yml, and a hook registered as kedro-mlflow's is
    # (plain hook_impl, registered after ours: pluggy would call it first)
    context = _context(tmp_path, {"base/mlops.yml": "registry:\n  metrc: test.f1\n"})
    called = []

    class LikeKedroMlflow:
        @hook_impl
        def after_context_created(self, context):
            called.append("kedro-mlflow")

    manager = _create_hook_manager()
    hooks = MlopsHooks()
    manager.register(hooks)
    manager.register(LikeKedroMlflow())
    # when Kedro calls the hook
    with pytest.raises(MlopsConfigError, match=r"registry\.metrc: unknown key"):
        manager.hook.after_context_created(context=context)
    # then the error comes first: no other hook has run, no settings are kept
    assert called == []
    assert hooks.config is None


MLFLOW_YML = "server:\n  mlflow_tracking_uri: ${mlops.tracking_uri:}\n"


def _held(lock: Path) -> bool:
    """Whether some other open file holds the OS lock on ``lock``."""
    import fcntl
    import os

    descriptor = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)  # closing it releases a lock it got
    return False


def _store_session(tmp_path: Path, probe: object) -> tuple[StoreHooks, object]:
    """Kedro's hook manager with the plugin's hooks and ``probe`` registered
    after them, as kedro-mlflow is (pluggy would call it first)."""
    manager = _create_hook_manager()
    store_hooks = StoreHooks()
    for plugin in (store_hooks, MlopsHooks(), probe):
        manager.register(plugin)
    return store_hooks, manager


def test_the_store_is_locked_while_kedro_mlflow_opens_it(
    tmp_path, migrated_store, monkeypatch
):
    # given a project with its store, and kedro-mlflow's hook that opens it
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    shutil.copyfile(migrated_store, tmp_path / "mlflow.db")
    lock = tmp_path / "mlflow.db.lock"
    seen = []

    class LikeKedroMlflow:
        @hook_impl
        def after_context_created(self, context):
            seen.append(_held(lock))

    store_hooks, manager = _store_session(tmp_path, LikeKedroMlflow())
    # when Kedro calls the hook
    manager.hook.after_context_created(
        context=_context(tmp_path, {"base/mlflow.yml": MLFLOW_YML})
    )
    # then kedro-mlflow's ran holding the store's lock, released afterwards
    assert seen == [True]
    assert not _held(lock)
    assert store_hooks.store.path == tmp_path / "mlflow.db"
    assert not store_hooks.store.created


def test_an_unreadable_store_stops_the_session_before_kedro_mlflows_hook(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    (tmp_path / "mlflow.db").write_bytes(b"not a database" * 100)
    called = []

    class LikeKedroMlflow:
        @hook_impl
        def after_context_created(self, context):
            called.append("kedro-mlflow")

    _, manager = _store_session(tmp_path, LikeKedroMlflow())
    with pytest.raises(TrackingStoreError, match="is unreadable: it is not an SQLite"):
        manager.hook.after_context_created(
            context=_context(tmp_path, {"base/mlflow.yml": MLFLOW_YML})
        )
    assert called == []
    assert (tmp_path / "mlflow.db").read_bytes() == b"not a database" * 100


def test_a_run_on_a_store_made_just_now_stops_before_the_other_hooks(
    tracking_uri, tmp_path
):
    import mlflow
    from kedro_mlflow.io.models import MlflowModelRegistryDataset

    from kedro_mlops.tracking.store import Store

    # given batch inference on a store this session had to create, and a hook
    # that, like kedro-mlflow's or the input check, runs first among the others
    called = []

    class First:
        @hook_impl(tryfirst=True)
        def before_pipeline_run(self, run_params, pipeline, catalog):
            called.append("first")
            mlflow.start_run()

    store_hooks, manager = _store_session(tmp_path, First())
    store_hooks.store = Store(tracking_uri, tmp_path / "mlflow.db", created=True)
    catalog = DataCatalog(
        datasets={
            "champion_model": MlflowModelRegistryDataset(
                model_name="churn", alias="champion"
            )
        }
    )
    pipeline = Pipeline([Node(lambda m: m, "champion_model", "scores")])
    # when the pipeline is about to run
    with pytest.raises(TrackingStoreError, match="There was no MLflow tracking store"):
        manager.hook.before_pipeline_run(
            run_params=_run_params(tmp_path), pipeline=pipeline, catalog=catalog
        )
    # then it stops before any other hook, and no MLflow run is started
    assert called == []
    assert mlflow.active_run() is None


# ------------------------------------------------------------ after_catalog_created


def test_catalog_hook_puts_the_drift_settings_in_the_catalog(tmp_path):
    # given mlops.yml's drift section
    hooks = _configured(tmp_path, "drift:\n  share_threshold: 0.3\n")
    catalog = DataCatalog()
    # when the catalog is created
    hooks.after_catalog_created(catalog, {})
    # then the drift nodes' settings dataset holds it
    settings = catalog.load(CONFIG_DATASET)
    assert settings.share_threshold == 0.3
    assert settings == hooks.config.drift


def test_catalog_hook_puts_the_monitoring_settings_in_the_catalog(tmp_path):
    from kedro_mlops.monitoring.pipeline import MONITORING_CONFIG_DATASET

    hooks = _configured(tmp_path, "monitoring:\n  window_hours: 6\n")
    catalog = DataCatalog()
    hooks.after_catalog_created(catalog, {})
    assert catalog.load(MONITORING_CONFIG_DATASET).window_hours == 6


def test_catalog_hook_adds_nothing_without_settings():
    catalog = DataCatalog()
    MlopsHooks().after_catalog_created(catalog, {})
    assert CONFIG_DATASET not in catalog


def _champion_entry(model_name: str) -> dict:
    return {
        "type": "kedro_mlflow.io.models.MlflowModelRegistryDataset",
        "model_name": model_name,
        "alias": "champion",
    }


def test_catalog_hook_stops_where_the_champion_has_another_name(tmp_path):
    # given mlops.yml naming the model anew, and a catalog that loads the old name
    hooks = _configured(tmp_path, "registry:\n  model_name: churn_v2\n")
    conf_catalog = {
        "champion_model": _champion_entry(PACKAGE),
        "upstream_model": {**_champion_entry("embeddings"), "alias": "production"},
    }
    # when the catalog is created, then the run stops, naming both names
    with pytest.raises(RegistryError) as error:
        hooks.after_catalog_created(DataCatalog(), conf_catalog)
    assert str(error.value).startswith(
        "The model has two names: registry.model_name is 'churn_v2' in mlops.yml, "
        f"but the catalog dataset 'champion_model' loads the champion of '{PACKAGE}' "
        "(catalog.yml)."
    )
    # and one name everywhere passes (another model, under another alias, too)
    conf_catalog["champion_model"] = _champion_entry("churn_v2")
    hooks.after_catalog_created(DataCatalog(), conf_catalog)


def test_the_spark_champion_is_held_to_the_same_name(tmp_path):
    # given the champion as conf/spark/catalog.yml loads it, under the old name
    hooks = _configured(tmp_path, "registry:\n  model_name: churn_v2\n")
    entry = {
        **_champion_entry(PACKAGE),
        "type": "kedro_mlops.datasets.SparkModelRegistryDataset",
    }
    # then the run stops as it does for kedro-mlflow's dataset
    with pytest.raises(RegistryError, match="loads the champion of"):
        hooks.after_catalog_created(DataCatalog(), {"champion_model": entry})


# ------------------------------------------------------------------ after_node_run


def _drift_node_and_outputs(tmp_path):
    reference = pd.DataFrame({"x": [1.0, 2.0, 3.0] * 50, "c": list("abc") * 50})
    current = pd.DataFrame({"x": [1.0, 2.0, 3.0] * 50, "c": list("aac") * 50})
    node, _gate = drift_check(reference="reference", current="current").nodes
    hooks = _configured(tmp_path)
    outputs = node.run(
        {"reference": reference, "current": current, CONFIG_DATASET: hooks.config.drift}
    )
    return hooks, node, outputs


def test_node_hook_logs_a_drift_checks_outputs_into_the_active_run(
    tracking_uri, tmp_path
):
    import mlflow
    from mlflow import MlflowClient

    # given a drift check that has run, and another node
    hooks, node, outputs = _drift_node_and_outputs(tmp_path)
    other = Node(len, "rows", "count", name="count_rows")
    # when both have run inside a tracked run
    with mlflow.start_run() as run:
        hooks.after_node_run(other, {"count": 3})
        hooks.after_node_run(node, outputs)
    # then the run has the check's metrics and report, and nothing of the other
    client = MlflowClient()
    metrics = client.get_run(run.info.run_id).data.metrics
    expected = {name: m["value"] for name, m in outputs["drift.metrics"].items()}
    assert metrics == expected and expected
    artifacts = [a.path for a in client.list_artifacts(run.info.run_id, "drift")]
    assert sorted(artifacts) == [
        "drift/drift_report.html",
        "drift/drift_report.json",
        "drift/drift_retrain_decision.json",
    ]
    decision = mlflow.artifacts.load_dict(
        f"runs:/{run.info.run_id}/drift/drift_retrain_decision.json"
    )
    assert decision == outputs["drift.retrain_decision"]


def test_node_hook_logs_nothing_without_an_active_run(tracking_uri, tmp_path):
    import mlflow

    # given a drift check that has run outside any tracked run
    hooks, node, outputs = _drift_node_and_outputs(tmp_path)
    # when the hook sees it
    hooks.after_node_run(node, outputs)
    # then no run was opened to log it in
    assert mlflow.active_run() is None
    assert mlflow.search_runs(search_all_experiments=True).empty


def test_node_hook_logs_the_rows_of_a_validated_training_table(tracking_uri, tmp_path):
    import mlflow
    from mlflow import MlflowClient

    from kedro_mlops.schema import validate_scoring_batch, validate_training_table

    # given a training table and a batch that passed their schema checks
    schema = {
        "id_column": "id",
        "target": {"column": "y", "positive_class": 1},
        "numeric": {"x": {}},
    }
    table = pd.DataFrame({"id": range(6), "x": [0.5] * 6, "y": [0, 1] * 3})
    train = Node(validate_training_table, ["raw", "params:schema"], "table")
    score = Node(validate_scoring_batch, ["batch", "params:schema"], "rows")
    hooks = _configured(tmp_path)
    # when the hook sees both inside a tracked run
    with mlflow.start_run() as run:
        hooks.after_node_run(train, train.run({"raw": table, "params:schema": schema}))
        hooks.after_node_run(score, {"rows": table.head(2)})
    # then the run holds the training table's rows, what the registry checks
    metrics = MlflowClient().get_run(run.info.run_id).data.metrics
    assert metrics == {"training_rows": 6.0}


# ------------------------------------------------------------- before_pipeline_run


def _fit(frame: pd.DataFrame) -> LogisticRegression:
    return LogisticRegression().fit(frame[["x"]], frame["y"])


def _score(batch: pd.DataFrame, model: LogisticRegression) -> pd.DataFrame:
    return batch.assign(p=model.predict_proba(batch[["x"]])[:, 1])


def _bundled() -> Pipeline:
    return bundle_model(
        Pipeline([Node(_fit, "train_rows", "model", name="fit")]),
        Pipeline([Node(_score, ["rows", "model"], "scores", name="score")]),
        input_name="rows",
        package_name="kedro_mlops",
    )


def test_pipeline_start_in_a_run_resolves_the_bundled_signature(tracking_uri, tmp_path):
    import mlflow

    # given a bundled model whose signature is "auto", and integer input rows
    pipeline = _bundled()
    catalog = DataCatalog({"rows": MemoryDataset(pd.DataFrame({"x": [1, 2, 3]}))})
    # when the pipeline starts inside a tracked run
    with mlflow.start_run():
        MlopsHooks().before_pipeline_run(_run_params(tmp_path), pipeline, catalog)
    # then the signature is inferred from the rows, integers accepting missing values
    signature = pipeline.log_model_kwargs["signature"]
    assert [(c["name"], c["type"]) for c in signature.inputs.to_dict()] == [
        ("x", "any")
    ]


def test_pipeline_start_without_a_run_leaves_the_bundle_alone(tracking_uri, tmp_path):
    pipeline = _bundled()
    catalog = DataCatalog({"rows": MemoryDataset(pd.DataFrame({"x": [1, 2, 3]}))})
    MlopsHooks().before_pipeline_run(_run_params(tmp_path), pipeline, catalog)
    assert pipeline.log_model_kwargs["signature"] == "auto"


class _Split(TypedDict):
    test_size: Annotated[float, Field(gt=0, lt=1)]


def _split(rows: pd.DataFrame, params: _Split) -> pd.DataFrame:
    return rows


def test_a_bad_parameter_stops_the_run_before_kedro_mlflow_opens_one(tmp_path):
    # given a node that declares its parameters, a value conf/base gives it
    # that cannot be, and a hook registered as kedro-mlflow's is
    context = _context(tmp_path, {"base/parameters.yml": "split:\n  test_size: 1\n"})
    opened = []

    class LikeKedroMlflow:
        @hook_impl
        def before_pipeline_run(self):
            opened.append("run")

    manager = _create_hook_manager()
    manager.register(BundleHooks())
    manager.register(LikeKedroMlflow())
    manager.hook.after_context_created(context=context)
    pipeline = Pipeline([Node(_split, ["rows", "params:split"], "parts")])
    catalog = DataCatalog()
    catalog["parameters"] = context.config_loader["parameters"]
    # when the pipeline is about to start, then the parameter stops it first
    with pytest.raises(ParametersError) as error:
        manager.hook.before_pipeline_run(
            run_params=_run_params(tmp_path), pipeline=pipeline, catalog=catalog
        )
    assert str(error.value) == (
        "Invalid parameter in conf/base/parameters.yml: split.test_size: "
        "Input should be less than 1 (got 1)"
    )
    assert opened == []


def test_a_gate_metric_never_logged_stops_the_run_before_kedro_mlflow_opens_one(
    tracking_uri, tmp_path, monkeypatch
):
    from kedro_mlops.plugin import hooks as plugin_hooks

    # given a champion whose run logged test.roc_auc, and a gate rule on a
    # metric no registered run logged
    trained = _configured(tmp_path)
    _kedro_run(trained, tmp_path, {"test.roc_auc": 0.8})
    _pipeline_end(trained, tmp_path)
    gated = _configured(tmp_path, "registry:\n  rules:\n    - metric: test.brer\n")
    monkeypatch.setattr(plugin_hooks.hooks, "config", gated.config)
    opened = []

    class LikeKedroMlflow:
        @hook_impl
        def before_pipeline_run(self):
            opened.append("run")

    manager = _create_hook_manager()
    manager.register(BundleHooks())
    manager.register(LikeKedroMlflow())
    manager.hook.after_context_created(context=_context(tmp_path))
    catalog = DataCatalog({"train_rows": MemoryDataset(pd.DataFrame({"x": [1.0]}))})
    # when a training pipeline that logs a model is about to start
    with pytest.raises(RegistryError) as error:
        manager.hook.before_pipeline_run(
            run_params=_run_params(tmp_path), pipeline=_bundled(), catalog=catalog
        )
    # then the rule's metric stops it, before any run is opened
    assert str(error.value).startswith(
        "The promotion gate in mlops.yml reads metric 'test.brer' (registry.rules), "
        f"which the runs of {PACKAGE} v1 (champion, challenger) never logged"
    )
    assert opened == []


# -------------------------------------------------------------- after_pipeline_run


def test_pipeline_end_writes_lineage_then_promotes_the_model(tracking_uri, tmp_path):
    from mlflow import MlflowClient

    # given a training run that logged a model
    hooks = _configured(tmp_path)
    run_id = _kedro_run(hooks, tmp_path, {"test.roc_auc": 0.8})
    # when the pipeline ends
    _pipeline_end(hooks, tmp_path)
    # then the run holds its lineage
    client = MlflowClient()
    tags = client.get_run(run_id).data.tags
    assert tags[f"{TAG_PREFIX}env"] == "local"
    assert tags[f"{TAG_PREFIX}pipelines"] == "training"
    assert tags[f"{TAG_PREFIX}git.commit"] == "none"  # tmp_path is no git repository
    # and its model is registered under the package's name, as the champion
    champion = client.get_model_version_by_alias(PACKAGE, "champion")
    assert champion.run_id == run_id
    assert tags["mlops.registry.promoted"] == "true"
    # and the registered version has its model card, linked from its description
    card = {a.path for a in client.list_artifacts(run_id, "model_card")}
    assert card == {"model_card/model_card.html", "model_card/model_card.md"}
    assert f"runs:/{run_id}/model_card/model_card.html" in champion.description


def test_pipeline_end_refuses_a_model_trained_on_too_few_rows(
    tracking_uri, tmp_path, caplog
):
    from mlflow import MlflowClient

    # given a training run of a model that saw 6 rows, against the default minimum
    hooks = _configured(tmp_path)
    run_id = _kedro_run(hooks, tmp_path, {"test.roc_auc": 0.9, "training_rows": 6})
    # when the pipeline ends
    with caplog.at_level(logging.INFO, logger="kedro_mlops"):
        _pipeline_end(hooks, tmp_path)
    # then the run's log says the model is not registered, and why, as a warning
    (record,) = [r for r in caplog.records if "Model registry" in r.message]
    assert record.levelno == logging.WARNING
    assert "not registered: it was trained on 6 rows" in record.message
    assert "registry.min_training_rows (100)" in record.message
    client = MlflowClient()
    assert client.search_registered_models() == []
    assert client.get_run(run_id).data.tags["mlops.registry.promoted"] == "false"


def test_pipeline_end_with_the_registry_off_writes_lineage_only(tracking_uri, tmp_path):
    from mlflow import MlflowClient

    hooks = _configured(tmp_path, "registry:\n  enabled: false\n")
    run_id = _kedro_run(hooks, tmp_path, {"test.roc_auc": 0.8})
    _pipeline_end(hooks, tmp_path)
    client = MlflowClient()
    assert client.get_run(run_id).data.tags[f"{TAG_PREFIX}env"] == "local"
    assert client.search_registered_models() == []


def test_pipeline_end_without_a_run_at_the_start_writes_nothing(tracking_uri, tmp_path):
    import mlflow
    from mlflow import MlflowClient

    # given a pipeline that started with no active run (tracking off), and a
    # run that exists in the store
    hooks = _configured(tmp_path)
    hooks.before_pipeline_run(_run_params(tmp_path), Pipeline([]), DataCatalog())
    with mlflow.start_run() as run:
        mlflow.log_metric("test.roc_auc", 0.8)
    # when the pipeline ends
    _pipeline_end(hooks, tmp_path)
    # then no run is given lineage, nothing is registered
    client = MlflowClient()
    assert not any(
        key.startswith(TAG_PREFIX) for key in client.get_run(run.info.run_id).data.tags
    )
    assert client.search_registered_models() == []


# --------------------------------------------------------------- on_pipeline_error


def test_after_an_error_the_failed_run_gets_no_model_and_no_later_lineage(
    tracking_uri, tmp_path
):
    from mlflow import MlflowClient

    # given a run whose pipeline failed before any node finished
    hooks = _configured(tmp_path)
    run_id = _kedro_run(hooks, tmp_path, {"test.roc_auc": 0.8})
    hooks.on_pipeline_error(RuntimeError("a node failed"), _run_params(tmp_path), {})
    # when a later pipeline end reaches the same hooks (one instance per process)
    _pipeline_end(hooks, tmp_path)
    # then the failed run says why it failed, and holds the code version only:
    # no data, no registration
    client = MlflowClient()
    tags = client.get_run(run_id).data.tags
    assert tags["mlops.error"] == "RuntimeError: a node failed"
    assert tags[f"{TAG_PREFIX}pipelines"] == "training"
    assert not any(key.startswith(f"{TAG_PREFIX}data.") for key in tags)
    assert client.search_registered_models() == []


def test_after_an_error_the_nodes_that_finished_leave_their_lineage(
    tracking_uri, tmp_path, monkeypatch
):
    from mlflow import MlflowClient

    from kedro_mlops.versioning.dataset import DVCDataset

    # given a pipeline whose first node saved a DVC-tracked output, then failed
    monkeypatch.setenv("KEDRO_MLOPS_DVC", "off")
    catalog = DataCatalog(
        {
            "features": DVCDataset(
                filepath=str(tmp_path / "f.pkl"), dataset="pickle.PickleDataset"
            )
        }
    )
    catalog.save("features", [1, 2])
    first = Node(abs, "raw", "features", name="prepare")
    hooks = _configured(tmp_path)
    run_id = _kedro_run(hooks, tmp_path, {}, log_model=False)
    hooks.after_node_run(first, {"features": [1, 2]})
    # when the pipeline fails
    hooks.on_pipeline_error(RuntimeError("fit failed"), _run_params(tmp_path), catalog)
    # then the run holds the lineage of what the finished node wrote
    tags = MlflowClient().get_run(run_id).data.tags
    assert tags[f"{TAG_PREFIX}data.features.role"] == "output"


# ------------------------------------------------------- BundleHooks.after_pipeline_run


def _training_catalog(tmp_path: Path) -> DataCatalog:
    """The training run's catalog: a fitted model in a pickle file."""
    catalog = DataCatalog({"model": PickleDataset(filepath=str(tmp_path / "m.pkl"))})
    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0, 0, 1, 1]})
    catalog.save("model", _fit(frame))
    return catalog


def test_bundle_hook_shares_the_fitted_model_before_it_is_logged(tmp_path):
    # given a training run of a bundled model that wrote its fitted model
    catalog = _training_catalog(tmp_path)
    # when the pipeline ends
    BundleHooks().after_pipeline_run(_bundled(), catalog)
    # then the saved model is the shared, frozen estimator
    assert isinstance(catalog.load("model"), SharedEstimator)


def test_bundle_hook_leaves_a_pipeline_without_a_bundled_model_alone(tmp_path):
    catalog = _training_catalog(tmp_path)
    BundleHooks().after_pipeline_run(_bundled().training, catalog)
    model = catalog.load("model")
    assert isinstance(model, LogisticRegression)
    assert not isinstance(model, SharedEstimator)


def test_hooks_run_around_kedro_mlflows_after_pipeline_run(
    tracking_uri, tmp_path, monkeypatch
):
    from kedro_mlops.serving import bundle
    from kedro_mlops.versioning import lineage

    # given kedro-mlflow's hook (plain hook_impl) registered between ours, in the
    # order where pluggy (last registered, first called) would reverse all three,
    # and the steps of our hooks recorded
    order = []

    class LikeKedroMlflow:
        @hook_impl
        def after_pipeline_run(self, run_params, pipeline, catalog):
            order.append("kedro-mlflow logs the model")

    monkeypatch.setattr(
        bundle, "share_fitted_estimators", lambda *a: order.append("share")
    )
    monkeypatch.setattr(lineage, "record_run", lambda *a: order.append("lineage"))
    hooks = MlopsHooks()
    manager = _create_hook_manager()
    for plugin in (BundleHooks(), LikeKedroMlflow(), hooks):
        manager.register(plugin)
    _kedro_run(hooks, tmp_path, {}, log_model=False)
    # when the pipeline ends
    manager.hook.after_pipeline_run(
        run_params=_run_params(tmp_path),
        run_result={},
        pipeline=Pipeline([]),
        catalog=DataCatalog(),
    )
    # then the estimators are shared before the model is logged, and the lineage
    # and the registry come after it
    assert order == ["share", "kedro-mlflow logs the model", "lineage"]


def test_an_env_without_a_folder_is_an_error_naming_the_environments(tmp_path):
    from kedro_mlops.plugin.errors import UnknownEnvironmentError

    context = _context(tmp_path)
    context.env = "prodd"
    with pytest.raises(UnknownEnvironmentError) as caught:
        MlopsHooks().after_context_created(context)
    assert str(caught.value).startswith("No configuration environment 'prodd': ")
    assert "This project's environments: base, local." in str(caught.value)


def test_an_interrupted_run_exits_with_128_plus_the_signal(tracking_uri, tmp_path):
    import signal

    from kedro.io import DatasetError

    from kedro_mlops.plugin.interrupts import RunInterrupted

    hooks = _configured(tmp_path)
    _kedro_run(hooks, tmp_path, {}, log_model=False)
    wrapped = DatasetError("Failed while saving data to dataset x")
    wrapped.__cause__ = RunInterrupted(signal.SIGTERM)
    with pytest.raises(SystemExit) as caught:
        hooks.on_pipeline_error(wrapped, _run_params(tmp_path), DataCatalog())
    assert caught.value.code == 143


@pytest.mark.parametrize("hook", ["after_pipeline_run", "on_pipeline_error"])
def test_a_server_lost_inside_kedro_mlflows_hook_ends_with_one_line(
    tmp_path, monkeypatch, hook
):
    # given a tracking server where nothing listens any more, and kedro-mlflow's
    # hook failing on its request (logging the model, or closing the run FAILED)
    import socket

    import mlflow

    from kedro_mlops.tracking.server import TrackingServerLost

    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        uri = f"http://127.0.0.1:{probe_socket.getsockname()[1]}"
    mlflow.set_tracking_uri(uri)

    def fail(**kwargs):
        raise RuntimeError(
            f"API request to {uri}/api/2.0/mlflow/runs/update failed with exception "
            "HTTPConnectionPool: Max retries exceeded (Connection refused)"
        )

    class LikeKedroMlflow:
        pass

    setattr(LikeKedroMlflow, hook, hook_impl(lambda self, **kwargs: fail()))
    _, manager = _store_session(tmp_path, LikeKedroMlflow())
    node_error = ValueError("the node's own error")
    arguments = {"run_params": {}, "pipeline": None, "catalog": None}
    if hook == "on_pipeline_error":
        arguments["error"] = node_error
    else:
        arguments["run_result"] = {}
    # when Kedro calls the hook, then the error says what happened, in one line
    with pytest.raises(TrackingServerLost) as caught:
        getattr(manager.hook, hook)(**arguments)
    assert str(caught.value).startswith(
        f"The MLflow tracking server {uri} stopped answering during the run "
        "(connection refused)."
    )
    if hook == "on_pipeline_error":
        assert caught.value.__cause__ is node_error
