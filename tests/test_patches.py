"""The patches of kedro_mlops.patches: MLflow's IPython probes are skipped when no
IPython is loaded, and only then; its requirements check runs only when a
requirement is not plainly met; every patch falls back to the dependency when
its name is gone; nothing is patched unless installed."""

from __future__ import annotations

import logging
import pickle
import re
import subprocess
import sys
import textwrap

import pytest

from kedro_mlops import patches

# A run started in a fresh interpreter, as `kedro run` starts one; prints whether
# starting it imported IPython.
START_RUN = """
import sys
import mlflow
from kedro_mlops import patches
if sys.argv[1] == "guarded":
    assert len(patches.install("tracking")) == 7
mlflow.set_tracking_uri(sys.argv[2])
with mlflow.start_run() as run:
    pass
print("IPython" in sys.modules, mlflow.get_run(run.info.run_id).info.status)
"""


def test_guarded_probe_answers_without_asking_when_ipython_is_absent(monkeypatch):
    asked = []

    def probe():
        asked.append(True)
        return True

    guarded = patches.guarded(probe, lambda: False)
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert guarded() is False and asked == []
    monkeypatch.setitem(sys.modules, "IPython", object())
    assert guarded() is True and asked == [True]
    # wrapping twice keeps one wrapper
    assert patches.guarded(guarded, lambda: False) is guarded


def test_guarded_dbutils_probe_raises_mlflows_own_error(monkeypatch):
    from mlflow.utils import databricks_utils

    patches.install("tracking")
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    with pytest.raises(databricks_utils._NoDbutilsError):
        databricks_utils._get_dbutils()
    assert databricks_utils.is_running_in_ipython_environment() is False


def test_install_wraps_mlflows_three_probes_once():
    from mlflow.tracking.context import jupyter_notebook_context
    from mlflow.utils import databricks_utils

    names = patches.install("tracking")
    assert names == [
        "mlflow.tracking.context.jupyter_notebook_context.is_running_in_ipython_environment",
        "mlflow.utils.databricks_utils.is_running_in_ipython_environment",
        "mlflow.utils.databricks_utils._get_dbutils",
        "mlflow.utils.environment.warn_dependency_requirement_mismatches",
        "mlflow.pyfunc.warn_dependency_requirement_mismatches",
        "kedro_mlflow.pipeline.pipeline_ml.PipelineML._turn_pipeline_to_ml",
        "kedro_mlflow.framework.hooks.mlflow_hook.MlflowHook._log_param",
    ]
    wrapped = databricks_utils._get_dbutils
    patches.install("tracking")
    assert databricks_utils._get_dbutils is wrapped
    assert (
        jupyter_notebook_context.is_running_in_ipython_environment.__wrapped__
        is databricks_utils.is_running_in_ipython_environment.__wrapped__
    )


def test_inside_ipython_the_probe_still_finds_the_shell():
    pytest.importorskip("IPython")  # the dev extra installs it (kedro-viz)
    code = textwrap.dedent(
        """
        from IPython.testing.globalipapp import start_ipython
        from kedro_mlops import patches
        from mlflow.utils import databricks_utils
        start_ipython()
        patches.install("tracking")
        print(databricks_utils.is_running_in_ipython_environment())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split()[-1] == "True"


@pytest.mark.integration  # a fresh interpreter starts a run on a real store
@pytest.mark.parametrize("mode", ["as_mlflow_ships", "guarded"])
def test_starting_a_run_imports_ipython_only_unguarded(tmp_path, mode):
    pytest.importorskip("IPython")  # without it there is nothing to spare
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = subprocess.run(
        [sys.executable, "-c", START_RUN, mode, uri],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    imported, status = result.stdout.split()[-2:]
    assert status == "FINISHED"
    assert imported == ("False" if mode == "guarded" else "True")


def test_plainly_satisfied_requirements():
    import mlflow
    import pandas

    assert patches.satisfied(f"pandas=={pandas.__version__}")
    assert patches.satisfied(f"mlflow=={mlflow.__version__}")
    assert patches.satisfied("pandas")
    assert not patches.satisfied("pandas==0.0.1")
    assert not patches.satisfied("no-such-distribution-here==1.0")
    assert not patches.satisfied(f"pandas[excel]=={pandas.__version__}")
    assert not patches.satisfied('pandas; python_version < "3"')
    assert not patches.satisfied("./wheels/project-0.1-py3-none-any.whl")


def test_mlflows_check_runs_only_when_a_requirement_is_not_met():
    import pandas

    checked = []
    check = patches.requirements_check(checked.append)
    assert check([f"pandas=={pandas.__version__}", "pandas"]) is None
    assert checked == []  # every requirement met: MLflow is not asked
    check([f"pandas=={pandas.__version__}", "pandas==0.0.1"])
    assert checked == [[f"pandas=={pandas.__version__}", "pandas==0.0.1"]]
    assert patches.requirements_check(check) is check


def test_a_mismatch_still_gets_mlflows_warning(caplog):
    from mlflow.utils import environment

    patches.install("tracking")
    with caplog.at_level(logging.WARNING):
        environment.warn_dependency_requirement_mismatches(["pandas==0.0.1"])
    assert (
        "pandas (current:" in caplog.text and "required: pandas==0.0.1" in caplog.text
    )


@pytest.mark.parametrize("patch", patches.PATCHES, ids=lambda p: p.target)
def test_a_name_gone_leaves_the_dependency_as_it_is_with_one_warning(
    patch, monkeypatch
):
    # given a dependency release without the patched name
    module = patches._owner(patch.module)
    monkeypatch.delattr(module, patch.name)
    monkeypatch.setattr(patches, "_warned", set())
    # when its group is installed, twice (importing Kedro's project module
    # reconfigures logging, so the records are collected on the logger itself)
    records: list[logging.LogRecord] = []
    collect = logging.Handler(logging.WARNING)
    collect.emit = records.append  # type: ignore[method-assign]
    patches.logger.addHandler(collect)
    try:
        first = patches.install(patch.group)
        second = patches.install(patch.group)
    finally:
        patches.logger.removeHandler(collect)
    # then nothing is put in its place, the others still are, and one warning
    # names what is lost
    assert patch.target not in first and patch.target not in second
    assert not hasattr(module, patch.name)
    others = [p.target for p in patches.PATCHES if p.group == patch.group]
    assert first == [t for t in others if t != patch.target]
    warnings = [r for r in records if patch.target in r.getMessage()]
    assert len(warnings) == 1 and "own behaviour" in warnings[0].getMessage()


def test_an_unknown_group_is_refused():
    with pytest.raises(ValueError, match="groups: \\['serving', 'tracking'\\]"):
        patches.install("everything")


UNPICKLE = """
import logging, pickle, sys
from kedro_mlflow.mlflow import kedro_pipeline_model as kpm
original = kpm._create_hook_manager
model = pickle.loads(sys.stdin.buffer.read())
probes = __import__("mlflow.utils.databricks_utils", fromlist=["x"])
print(kpm._create_hook_manager is original,
      logging.getLogger("kedro.pipeline.node").filters == [],
      hasattr(probes._get_dbutils, "_kedro_mlops_patch"))
"""


def test_unpickling_a_bundled_model_patches_nothing():
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.pipeline import Node, Pipeline
    from kedro_mlflow.mlflow import KedroPipelineModel

    from kedro_mlops.serving import ServingRunner

    inference = Pipeline([Node(abs, "batch", "scores", name="score")])
    model = KedroPipelineModel(
        inference,
        DataCatalog({"batch": MemoryDataset()}),
        input_name="batch",
        runner=ServingRunner(),
    )
    result = subprocess.run(
        [sys.executable, "-c", UNPICKLE],
        input=pickle.dumps(model),
        capture_output=True,
        check=True,
    )
    assert result.stdout.decode().splitlines()[-1].split() == ["True", "True", "False"]


def test_the_architecture_page_lists_every_patch():
    from tests.conftest import REPO

    page = (REPO / "docs" / "architecture.md").read_text()
    rows = re.findall(
        r"^\| (tracking|serving) \| `([^`]+)` \| [^|]+ \| ([^|]+) \|$",
        page,
        re.MULTILINE,
    )
    assert sorted(rows) == sorted((p.group, p.target, p.gain) for p in patches.PATCHES)


def _bundled_training():
    from kedro.pipeline import Node, Pipeline
    from kedro_mlflow.pipeline import pipeline_ml_factory

    training = Pipeline(
        [
            Node(abs, "raw", "features", name="prepare"),
            Node(abs, "features", "model", name="fit"),
            Node(abs, "features", "metrics", name="evaluate"),
        ]
    )
    inference = Pipeline([Node(pow, ["batch", "model"], "scores", name="score")])
    return pipeline_ml_factory(training, inference, input_name="batch")


def test_a_part_of_a_bundled_pipeline_that_cannot_make_the_model_is_plain(caplog):
    from kedro_mlflow.pipeline.pipeline_ml import KedroMlflowPipelineMLError, PipelineML

    bundled = _bundled_training()
    original = PipelineML._turn_pipeline_to_ml
    PipelineML._turn_pipeline_to_ml = getattr(original, "__wrapped__", original)
    try:
        # without the patch, filtering out the node that makes the model fails
        with pytest.raises(KedroMlflowPipelineMLError, match="free for the inference"):
            bundled.from_nodes("evaluate")
        patches.install("tracking")
        # with it, the part is a plain pipeline, and a part that still makes the
        # model stays bundled
        with caplog.at_level(logging.INFO, logger=patches.logger.name):
            part = bundled.from_nodes("evaluate")
        whole = bundled.from_nodes("prepare")
    finally:
        PipelineML._turn_pipeline_to_ml = original
    assert (
        type(part).__name__ == "Pipeline"
        and part.nodes == bundled.only_nodes("evaluate").nodes
    )
    assert isinstance(whole, PipelineML) and len(whole.nodes) == 3
    assert "logs no model" in caplog.text


def test_kedro_mlflows_demotion_notice_is_filtered_out(caplog):
    patches.install_log_filters()
    demoted = logging.getLogger("kedro_mlflow.pipeline.pipeline_ml")
    with caplog.at_level(logging.WARNING, logger=demoted.name):
        demoted.warning("BEWARE - This 'Pipeline' is no longer a 'PipelineML' object.")
        demoted.warning("Something else")
    assert [r.getMessage() for r in caplog.records] == ["Something else"]


def test_a_nodes_parameters_go_in_one_request(tracking_uri):
    # given kedro-mlflow's hook with the patch, in a run
    import mlflow
    from kedro_mlflow.framework.hooks.mlflow_hook import MlflowHook
    from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

    patches.install("tracking")
    hook = MlflowHook()
    hook.long_params_strategy = "tag"
    sent = []
    with mlflow.start_run() as run:
        client = mlflow.MlflowClient()
        original = client.log_batch
        # when kedro-mlflow logs a node's parameters, then the plugin's hook
        for i in range(130):
            hook._log_param(f"p{i}", i)
        hook._log_param("long", "x" * (MAX_PARAM_VAL_LENGTH + 1))
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(
                mlflow.MlflowClient,
                "log_batch",
                lambda self, run_id, **kw: (
                    sent.append(len(kw["params"])),
                    original(run_id, **kw),
                ),
            )
            assert patches.flush_params() == 130
        assert patches.flush_params() == 0  # nothing left over
    # then two requests (MLflow takes 100 per batch) logged them all
    assert sent == [100, 30]
    logged = mlflow.get_run(run.info.run_id).data
    assert {k: v for k, v in logged.params.items()} == {
        f"p{i}": str(i) for i in range(130)
    }
    # and a value too long for a parameter went kedro-mlflow's own way: a tag
    assert logged.tags["long"] == "x" * (MAX_PARAM_VAL_LENGTH + 1)


def test_parameters_logged_meanwhile_by_another_worker_are_taken(tracking_uri):
    # given kedro-mlflow's hook with the patch, in a run, and a second worker of
    # the same run (ParallelRunner) that logs the same node parameter after
    # MLflow has read the run's parameters and before it inserts the new ones
    import mlflow
    from kedro_mlflow.framework.hooks.mlflow_hook import MlflowHook
    from mlflow.store.tracking.dbmodels.models import SqlParam
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
    from sqlalchemy.orm import Session

    patches.install("tracking")
    hook = MlflowHook()
    add_all = Session.add_all
    other_worker = SqlAlchemyStore(tracking_uri, "unused")
    raced = []

    def race_then_add(session, items):
        items = list(items)
        if not raced and items and isinstance(items[0], SqlParam):
            raced.append(items[0].run_uuid)
            other_worker.log_param(items[0].run_uuid, mlflow.entities.Param("a", "1"))
        return add_all(session, items)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Session, "add_all", race_then_add)
        with mlflow.start_run() as run:
            hook._log_param("a", 1)
            hook._log_param("b", 2)
            # when the plugin's hook sends them
            assert patches.flush_params() == 2
    # then the race happened, and the run has each parameter once, with no error
    assert raced == [run.info.run_id]
    assert mlflow.get_run(run.info.run_id).data.params == {"a": "1", "b": "2"}


def test_a_parameter_changed_by_another_worker_is_still_refused(tracking_uri):
    # given a run where another worker logged a parameter with another value
    import mlflow
    from kedro_mlflow.framework.hooks.mlflow_hook import MlflowHook

    patches.install("tracking")
    hook = MlflowHook()
    with mlflow.start_run():
        mlflow.log_param("a", "0")
        hook._log_param("a", 1)
        # when the plugin's hook sends the node's value, then MLflow's own error
        with pytest.raises(Exception, match="Changing param values is not allowed"):
            patches.flush_params()
