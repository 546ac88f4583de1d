"""Fit the classifier with the parameters from conf/base/parameters_train.yml."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
