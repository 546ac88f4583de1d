"""MLflow's IPython probes are skipped when no IPython is loaded, and only then."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from kedro_mlops import notebook_probe

# A run started in a fresh interpreter, as `kedro run` starts one; prints whether
# starting it imported IPython.
START_RUN = """
import sys
import mlflow
from kedro_mlops import notebook_probe
if sys.argv[1] == "guarded":
    assert len(notebook_probe.install()) == 3
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

    guarded = notebook_probe.guarded(probe, lambda: False)
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert guarded() is False and asked == []
    monkeypatch.setitem(sys.modules, "IPython", object())
    assert guarded() is True and asked == [True]
    # wrapping twice keeps one wrapper
    assert notebook_probe.guarded(guarded, lambda: False) is guarded


def test_guarded_dbutils_probe_raises_mlflows_own_error(monkeypatch):
    from mlflow.utils import databricks_utils

    notebook_probe.install()
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    with pytest.raises(databricks_utils._NoDbutilsError):
        databricks_utils._get_dbutils()
    assert databricks_utils.is_running_in_ipython_environment() is False


def test_install_wraps_mlflows_three_probes_once():
    from mlflow.tracking.context import jupyter_notebook_context
    from mlflow.utils import databricks_utils

    names = notebook_probe.install()
    assert names == [
        "mlflow.tracking.context.jupyter_notebook_context.is_running_in_ipython_environment",
        "mlflow.utils.databricks_utils.is_running_in_ipython_environment",
        "mlflow.utils.databricks_utils._get_dbutils",
    ]
    wrapped = databricks_utils._get_dbutils
    notebook_probe.install()
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
        from kedro_mlops import notebook_probe
        from mlflow.utils import databricks_utils
        start_ipython()
        notebook_probe.install()
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
