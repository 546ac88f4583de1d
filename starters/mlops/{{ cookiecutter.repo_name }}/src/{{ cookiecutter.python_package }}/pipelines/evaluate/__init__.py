"""Score the held-out test set and measure the model."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
