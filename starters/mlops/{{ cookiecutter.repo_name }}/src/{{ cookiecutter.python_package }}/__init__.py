"""{{ cookiecutter.project_name }}: an MLOps-ready Kedro project."""

__version__ = "0.1"
