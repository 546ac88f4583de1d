"""The ``mlops`` starter, registered through the ``kedro.starters`` entry point.

Example:
    >>> from kedro_mlops.scaffold.starters import starters
    >>> starters[0].alias
    'mlops'
"""

from __future__ import annotations

from pathlib import Path

from kedro.framework.cli.starters import KedroStarterSpec


def template_root() -> Path:
    """Return the folder that holds the starter templates.

    A wheel carries them inside the package (``kedro_mlops/_starters``); a source
    checkout or editable install reads them from the repository's ``starters/``.
    """
    packaged = Path(__file__).parents[1] / "_starters"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "starters"


starters = [
    KedroStarterSpec(alias="mlops", template_path=str(template_root() / "mlops"))
]
