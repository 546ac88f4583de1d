"""Fit the preprocessing (imputation, scaling, one-hot encoding) on the training split."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
