"""``kedro_mlops.datasets.RegistryArtifactDataset``: a file that the run of a registered model logged.

The drift reference belongs to the model: the champion's reference is the
sample of the rows *it* was trained on, wherever the check runs (a fresh
clone, the production image, a scheduled job). Training logs the sample as an
artifact of its run (kedro-mlflow's ``MlflowArtifactDataset``); this dataset
loads it back from the run behind a registry alias or version, with any Kedro
dataset type:

.. code-block:: yaml

    champion_reference:
      type: kedro_mlops.datasets.RegistryArtifactDataset
      model_name: churn_model
      alias: champion                        # or version: 3
      artifact_path: reference/reference_sample.parquet
      dataset: pandas.ParquetDataset         # or a mapping with load_args, etc.

It is read-only. The artifact is downloaded into a temporary folder that lives
as long as the process (a Spark DataFrame reads its files lazily) and is
removed at exit.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from typing import Any

from kedro.io import AbstractDataset, DatasetError


class RegistryArtifactDataset(AbstractDataset):
    """An artifact of the run that logged a registered model version.

    Args:
        model_name: the registered model.
        artifact_path: the artifact's path in that run (``dir/file``).
        dataset: the Kedro dataset that reads the downloaded file: a type name
            (``pandas.ParquetDataset``) or a mapping with ``type`` and its
            other arguments (no ``filepath``: it is the downloaded file).
        alias: the registry alias (``champion`` unless ``version`` is given).
        version: a version number instead of an alias.
        metadata: Kedro's free-form metadata.

    Raises:
        DatasetError: on load, when the model has no such alias or version, or
            its run has no such artifact; on save, always (it is read-only).
    """

    def __init__(  # noqa: PLR0913 - the catalog entry's keys
        self,
        *,
        model_name: str,
        artifact_path: str,
        dataset: str | dict[str, Any],
        alias: str | None = None,
        version: int | str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if alias is not None and version is not None:
            raise DatasetError(
                f"RegistryArtifactDataset of '{model_name}': give alias or "
                f"version, not both (alias={alias!r}, version={version!r})."
            )
        config = {"type": dataset} if isinstance(dataset, str) else dict(dataset)
        if "type" not in config:
            raise DatasetError(
                f"RegistryArtifactDataset of '{model_name}': `dataset` needs a "
                "type, e.g. dataset: pandas.ParquetDataset."
            )
        if "filepath" in config:
            raise DatasetError(
                f"RegistryArtifactDataset of '{model_name}': remove `filepath` "
                "from `dataset`: the file is the downloaded artifact."
            )
        self.model_name = model_name
        self.artifact_path = artifact_path.strip("/")
        self.alias = alias if alias is not None or version is not None else "champion"
        self.version = None if version is None else str(version)
        self.metadata = metadata
        self._dataset_config = config

    def _wanted(self) -> str:
        if self.alias is not None:
            return f"the alias '{self.alias}'"
        return f"version {self.version}"

    def _model_version(self) -> Any:
        """The registry's model version, or a :class:`DatasetError`."""
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        client = MlflowClient()
        try:
            if self.alias is not None:
                return client.get_model_version_by_alias(self.model_name, self.alias)
            return client.get_model_version(self.model_name, str(self.version))
        except MlflowException:
            raise DatasetError(self._no_version()) from None

    def _no_version(self) -> str:
        import mlflow

        return (
            f"No version of registered model '{self.model_name}' has "
            f"{self._wanted()} in {mlflow.get_tracking_uri()}: train one first "
            "(`kedro run --pipelines training`)."
        )

    def missing_reason(self) -> str | None:
        """Why there is nothing to load (no such version, or no such
        artifact in its run), or ``None``; asked before a run starts."""
        try:
            self._run_id_with_artifact()
        except DatasetError as exc:
            return str(exc)
        return None

    def _run_id_with_artifact(self) -> str:
        from mlflow import MlflowClient

        model_version = self._model_version()
        run_id = model_version.run_id
        folder, _, name = self.artifact_path.rpartition("/")
        listed = MlflowClient().list_artifacts(run_id, folder or None)
        if not any(item.path == self.artifact_path for item in listed):
            raise DatasetError(
                f"Version {model_version.version} of registered model "
                f"'{self.model_name}' ({self._wanted()}) was logged by run "
                f"{run_id}, which has no artifact '{self.artifact_path}': it was "
                "trained before the file was logged with the model. Train again "
                "(`kedro run --pipelines training`)."
            )
        return run_id

    def load(self) -> Any:
        import mlflow

        run_id = self._run_id_with_artifact()
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=self.artifact_path, dst_path=_download_folder()
        )
        reader = AbstractDataset.from_config(
            f"{self.model_name}:{self.artifact_path}",
            {**self._dataset_config, "filepath": local},
        )
        return reader.load()

    def save(self, data: Any) -> None:
        raise DatasetError(
            f"RegistryArtifactDataset '{self.artifact_path}' of model "
            f"'{self.model_name}' is read-only: the training run logs the file."
        )

    def _exists(self) -> bool:
        return self.missing_reason() is None

    def _describe(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "alias": self.alias,
            "version": self.version,
            "artifact_path": self.artifact_path,
            "dataset": self._dataset_config.get("type"),
        }


_FOLDER: list[str] = []


def _download_folder() -> str:
    """A fresh folder under this process's download folder (removed at exit)."""
    if not _FOLDER:
        _FOLDER.append(tempfile.mkdtemp(prefix="kedro-mlops-artifacts-"))
        atexit.register(shutil.rmtree, _FOLDER[0], True)
    return tempfile.mkdtemp(dir=_FOLDER[0])
