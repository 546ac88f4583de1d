"""Kedro's view of kedro-mlops: the hooks and the ``kedro mlops`` commands.

Each hook and each command is a few calls into the concepts (tracking,
versioning, serving, drift, scaffold); the concepts never import this package.
"""
