"""The production Docker image's helpers: what the image runs while it is built and run.

* ``slim``: removes from an installed environment what running it never
  needs, then strips its shared libraries (``strip``);
* ``strip``: ``strip --strip-unneeded`` on each shared library whose stripped
  copy the loader maps exactly as the original;
* ``precompile``: writes the bytecode of the modules the image's runs import
  (unless the image is built with ``KEDRO_MLOPS_PRECOMPILE=0``);
* ``health``: the image's health check.

The ``Dockerfile`` and ``.dockerignore`` templates live with the other project
templates, in :mod:`kedro_mlops.scaffold`.
"""
