"""What Kedro loads through kedro-mlops' entry points must stay cheap."""

import subprocess
import sys

HEAVY = ("mlflow", "dvc", "scipy", "sklearn", "matplotlib", "pyspark", "kedro_mlflow")


def test_entry_point_modules_import_no_heavy_library():
    code = (
        "import sys, kedro_mlops, kedro_mlops.plugin.hooks, kedro_mlops.plugin.cli,"
        " kedro_mlops.scaffold.starters, kedro_mlops.config,"
        " kedro_mlops.datasets;"
        "print('\\n'.join(sorted(sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    modules = set(loaded.stdout.split())
    assert {"kedro_mlops.plugin.hooks", "kedro_mlops.versioning.dataset"} <= modules
    assert [m for m in modules if m.split(".")[0] in HEAVY] == []
