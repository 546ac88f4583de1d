"""Read the raw table, check it against the schema, split it."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
