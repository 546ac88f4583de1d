"""The production Docker image's helpers: what the image runs while it is built and run.

* ``slim``: strips an installed environment of what running it never needs;
* ``precompile``: writes the bytecode of the modules the image's runs import
  (only when the image is built with ``KEDRO_MLOPS_PRECOMPILE=1``);
* ``health``: the image's health check.

The ``Dockerfile`` and ``.dockerignore`` templates live with the other project
templates, in :mod:`kedro_mlops.scaffold`.
"""
