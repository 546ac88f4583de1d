import subprocess
import sys
from pathlib import Path

from kedro_mlops.scaffold.starters import starters, template_root


def test_mlops_starter_points_at_a_cookiecutter_template():
    (spec,) = starters
    assert spec.alias == "mlops"
    template = Path(spec.template_path)
    assert (template / "cookiecutter.json").is_file()
    assert (template / "prompts.yml").is_file()
    assert (template / "{{ cookiecutter.repo_name }}" / ".gitignore").is_file()
    assert template.parent == template_root()


def test_kedro_starter_list_shows_mlops():
    kedro = Path(sys.executable).with_name("kedro")
    listing = subprocess.run(
        [str(kedro), "starter", "list"], capture_output=True, text=True, check=True
    )
    assert "kedro_mlops" in listing.stdout
    assert "mlops:" in listing.stdout


def test_rendered_project_has_dotfiles_and_no_placeholders(rendered_project):
    assert (rendered_project / ".gitignore").is_file()
    assert (
        rendered_project / "src" / "churn_model" / "pipelines" / "infer" / "nodes.py"
    ).is_file()
    leftovers = [
        str(path.relative_to(rendered_project))
        for path in rendered_project.rglob("*")
        if path.is_file()
        and path.suffix in {".py", ".yml", ".toml", ".md"}
        and "cookiecutter" in path.read_text()
    ]
    assert leftovers == []


def test_every_pipeline_has_its_parameters_file(rendered_project):
    for name in ("ingest", "feature", "train", "evaluate", "infer"):
        assert (
            rendered_project / "src/churn_model/pipelines" / name / "nodes.py"
        ).is_file()
        assert (
            rendered_project / "src/churn_model/pipelines" / name / "pipeline.py"
        ).is_file()
        assert (rendered_project / "conf/base" / f"parameters_{name}.yml").is_file()


def test_template_holds_only_text_files():
    """Caches or pipeline outputs in the template would break rendering and ship in the wheel."""
    template = Path(starters[0].template_path)
    offenders = []
    for path in template.rglob("*"):
        if not path.is_file():
            continue
        parts = set(path.relative_to(template).parts)
        if parts & {"__pycache__", ".ruff_cache", ".pytest_cache", ".viz", "build"}:
            offenders.append(str(path))
            continue
        try:
            path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            offenders.append(str(path))
    assert offenders == []
