"""The production Docker image: templates, and the helpers the image runs.

* ``Dockerfile`` and ``dockerignore`` (written as ``.dockerignore``): the
  templates that the starter ships and that ``kedro mlops init`` writes;
* ``slim``: strips an installed environment of what running it never needs;
* ``precompile``: writes the bytecode of the modules the image's runs import
  (only when the image is built with ``KEDRO_MLOPS_PRECOMPILE=1``);
* ``health``: the image's health check.
"""

from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).parent
# project file -> template file in this folder
FILES = {"Dockerfile": "Dockerfile", ".dockerignore": "dockerignore"}


def template(name: str) -> str:
    """The text of a project file's template (``Dockerfile``, ``.dockerignore``)."""
    return (TEMPLATES / FILES[name]).read_text(encoding="utf-8")
