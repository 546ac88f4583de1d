"""The starter's model, trained in this process by the starter's own nodes.

The node modules of the template (``model_io.py``, ``pipelines/*/nodes.py``)
import the project's package by its cookiecutter name; :func:`starter_nodes`
writes them, with that name filled in, into a folder of their own and imports
them from there. :func:`train_starter_model` then runs the training
pipeline's nodes in order on the shipped ``customers.csv`` with the template's
parameters (ingest split, preprocessor, model input, model, the test set's
predictions), without Kedro, MLflow or DVC: about 1 s after the imports.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import yaml
from threadpoolctl import threadpool_limits

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "starters/mlops/{{ cookiecutter.repo_name }}"
RAW = TEMPLATE / "data/01_raw"
PACKAGE = "{{ cookiecutter.python_package }}"
#: the name the rendered package gets (one per process)
RENDERED = "starter_nodes_under_test"
NODE_MODULES = ("model_io", "ingest", "feature", "train")


def parameters() -> dict[str, Any]:
    """The template's ``conf/base/parameters*.yml``, merged."""
    merged: dict[str, Any] = {}
    for path in sorted((TEMPLATE / "conf/base").glob("parameters*.yml")):
        merged.update(yaml.safe_load(path.read_text(encoding="utf-8")))
    return merged


def starter_nodes(folder: Path) -> dict[str, ModuleType]:
    """The starter's ``model_io`` and ingest, feature and train node modules."""
    if RENDERED not in sys.modules:
        source = TEMPLATE / "src" / PACKAGE
        package = folder / RENDERED
        for relative in (
            "model_io.py",
            "pipelines/ingest/nodes.py",
            "pipelines/feature/nodes.py",
            "pipelines/train/nodes.py",
        ):
            text = (source / relative).read_text(encoding="utf-8")
            target = package / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text.replace(PACKAGE, RENDERED), encoding="utf-8")
        for init in (package, *(p for p in package.rglob("*") if p.is_dir())):
            (init / "__init__.py").touch()
        sys.path.insert(0, str(folder))
        importlib.invalidate_caches()
    return {
        "model_io": importlib.import_module(f"{RENDERED}.model_io"),
        **{
            name: importlib.import_module(f"{RENDERED}.pipelines.{name}.nodes")
            for name in NODE_MODULES[1:]
        },
    }


@dataclass
class TrainedStarter:
    """What the training pipeline leaves behind, and how to score new rows."""

    params: dict[str, Any]
    test_set: pd.DataFrame
    test_predictions: pd.DataFrame
    preprocessor: Any
    model: Any
    nodes: dict[str, ModuleType]

    def predict(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The starter's ``predict``: id, probability and 0/1 decision per row."""
        return self.nodes["model_io"].predict(
            rows,
            self.preprocessor,
            self.model,
            self.params["schema"],
            self.params["infer"],
        )


def starter_model_input(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """The starter's ``model_input`` (its training rows, preprocessed), its
    test set and its fitted preprocessor, made by the template's own nodes."""
    nodes = starter_nodes(folder)
    params = parameters()
    schema = params["schema"]
    data = pd.read_csv(RAW / "customers.csv")
    train, test = nodes["ingest"].split_data(data, schema["target"], params["ingest"])
    preprocessor = nodes["feature"].fit_preprocessor(train, schema, params["feature"])
    model_input = nodes["feature"].build_model_input(train, preprocessor, schema)
    return model_input, test, preprocessor


def train_starter_model(folder: Path) -> TrainedStarter:
    """Run the starter's training nodes on the shipped ``customers.csv``
    (its parameter search included)."""
    nodes = starter_nodes(folder)
    params = parameters()
    schema = params["schema"]
    model_input, test, preprocessor = starter_model_input(folder)
    # one OpenMP thread: on a busy machine the gradient boosting's threads
    # wait for each other (0.7 s with one thread, up to 30 s with two)
    with threadpool_limits(1):
        model = nodes["train"].train_model(
            model_input, schema["target"], params["train"]
        )
    predictions = nodes["model_io"].predict(
        test, preprocessor, model, schema, params["infer"]
    )
    return TrainedStarter(params, test, predictions, preprocessor, model, nodes)
