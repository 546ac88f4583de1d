"""Synthetic frames shared by the drift tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def sample_frame(
    rng: np.random.Generator,
    n: int,
    *,
    mean: float = 0.0,
    scale: float = 1.0,
    mix: list[float] | None = None,
) -> pd.DataFrame:
    """A normal, a lognormal and a three-level categorical column of ``n`` rows.

    ``mean`` and ``scale`` shape the normal column, ``mix`` the shares of the
    categories (basic, plus, pro).
    """
    mix = mix or [0.5, 0.3, 0.2]
    return pd.DataFrame(
        {
            "normal": rng.normal(mean, scale, n),
            "lognormal": rng.lognormal(0, 0.5, n),
            "plan": rng.choice(["basic", "plus", "pro"], n, p=mix),
        }
    )
