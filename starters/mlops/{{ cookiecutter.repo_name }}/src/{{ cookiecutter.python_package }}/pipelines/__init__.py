"""Modular pipelines: ingest -> feature -> train -> evaluate, and infer."""
