"""MLflow's IPython probes are skipped when no IPython is loaded, and only then;
its requirements check runs only when a requirement is not plainly met."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest

from kedro_mlops import mlflow_probes

# A run started in a fresh interpreter, as `kedro run` starts one; prints whether
# starting it imported IPython.
START_RUN = """
import sys
import mlflow
from kedro_mlops import mlflow_probes
if sys.argv[1] == "guarded":
    assert len(mlflow_probes.install()) == 5
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

    guarded = mlflow_probes.guarded(probe, lambda: False)
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert guarded() is False and asked == []
    monkeypatch.setitem(sys.modules, "IPython", object())
    assert guarded() is True and asked == [True]
    # wrapping twice keeps one wrapper
    assert mlflow_probes.guarded(guarded, lambda: False) is guarded


def test_guarded_dbutils_probe_raises_mlflows_own_error(monkeypatch):
    from mlflow.utils import databricks_utils

    mlflow_probes.install()
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    with pytest.raises(databricks_utils._NoDbutilsError):
        databricks_utils._get_dbutils()
    assert databricks_utils.is_running_in_ipython_environment() is False


def test_install_wraps_mlflows_three_probes_once():
    from mlflow.tracking.context import jupyter_notebook_context
    from mlflow.utils import databricks_utils

    names = mlflow_probes.install()
    assert names == [
        "mlflow.tracking.context.jupyter_notebook_context.is_running_in_ipython_environment",
        "mlflow.utils.databricks_utils.is_running_in_ipython_environment",
        "mlflow.utils.databricks_utils._get_dbutils",
        "mlflow.utils.environment.warn_dependency_requirement_mismatches",
        "mlflow.pyfunc.warn_dependency_requirement_mismatches",
    ]
    wrapped = databricks_utils._get_dbutils
    mlflow_probes.install()
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
        from kedro_mlops import mlflow_probes
        from mlflow.utils import databricks_utils
        start_ipython()
        mlflow_probes.install()
        print(databricks_utils.is_running_in_ipython_environment())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split()[-1] == "True"


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

    assert mlflow_probes.satisfied(f"pandas=={pandas.__version__}")
    assert mlflow_probes.satisfied(f"mlflow=={mlflow.__version__}")
    assert mlflow_probes.satisfied("pandas")
    assert not mlflow_probes.satisfied("pandas==0.0.1")
    assert not mlflow_probes.satisfied("no-such-distribution-here==1.0")
    assert not mlflow_probes.satisfied(f"pandas[excel]=={pandas.__version__}")
    assert not mlflow_probes.satisfied('pandas; python_version < "3"')
    assert not mlflow_probes.satisfied("./wheels/project-0.1-py3-none-any.whl")


def test_mlflows_check_runs_only_when_a_requirement_is_not_met():
    import pandas

    checked = []
    check = mlflow_probes.requirements_check(checked.append)
    assert check([f"pandas=={pandas.__version__}", "pandas"]) is None
    assert checked == []  # every requirement met: MLflow is not asked
    check([f"pandas=={pandas.__version__}", "pandas==0.0.1"])
    assert checked == [[f"pandas=={pandas.__version__}", "pandas==0.0.1"]]
    assert mlflow_probes.requirements_check(check) is check


def test_a_mismatch_still_gets_mlflows_warning(caplog):
    from mlflow.utils import environment

    mlflow_probes.install()
    with caplog.at_level(logging.WARNING):
        environment.warn_dependency_requirement_mismatches(["pandas==0.0.1"])
    assert (
        "pandas (current:" in caplog.text and "required: pandas==0.0.1" in caplog.text
    )
