"""Score a batch of raw rows: validate them, preprocess, predict; monitor the served traffic."""

from .pipeline import (
    create_batch_scoring_pipeline,
    create_monitoring_pipeline,
    create_pipeline,
    create_reference_pipeline,
)

__all__ = [
    "create_batch_scoring_pipeline",
    "create_monitoring_pipeline",
    "create_pipeline",
    "create_reference_pipeline",
]
