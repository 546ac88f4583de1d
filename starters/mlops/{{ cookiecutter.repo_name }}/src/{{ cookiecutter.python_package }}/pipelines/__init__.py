"""Modular pipelines: ingest -> feature -> train -> evaluate, and infer.

Each pipeline's nodes live in a namespace named after it
(`ingest.split_train_test`, ...), so `kedro viz` draws each pipeline as one
collapsible group. Datasets and parameters keep their catalog names
(`prefix_datasets_with_namespace=False`).
"""
