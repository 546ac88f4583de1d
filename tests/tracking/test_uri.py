"""The ${mlops.*} resolvers: the project-root store, or the one the environment names."""

from omegaconf import OmegaConf

from kedro_mlops.tracking.uri import register_resolvers


def test_project_path_is_absolute_and_follows_the_latest_project(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    monkeypatch.chdir(tmp_path)
    register_resolvers(first.relative_to(tmp_path))
    conf = OmegaConf.create({"uri": "sqlite:///${mlops.project_path:}/mlflow.db"})
    assert conf.uri == f"sqlite:///{first.as_posix()}/mlflow.db"
    # registering again (a second session in the same process) re-points it
    register_resolvers(second)
    conf = OmegaConf.create({"uri": "sqlite:///${mlops.project_path:}/mlflow.db"})
    assert conf.uri == f"sqlite:///{second.as_posix()}/mlflow.db"
