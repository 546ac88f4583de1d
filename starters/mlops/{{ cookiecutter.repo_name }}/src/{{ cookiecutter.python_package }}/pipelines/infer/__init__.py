"""Score a batch of raw rows: validate them, preprocess, predict."""

from .pipeline import create_batch_scoring_pipeline, create_pipeline

__all__ = ["create_batch_scoring_pipeline", "create_pipeline"]
