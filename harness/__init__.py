"""What the tests and the benchmarks drive kedro-mlops through.

* :mod:`harness.envs`: the wheel built from this checkout, installed into fresh
  environments with uv (as ``pip install kedro-mlops`` would), starter projects
  made with the real ``kedro new``, a free local port;
* :mod:`harness.dockerignore`: the Docker build context, from ``.dockerignore``
  as Docker computes it;
* :mod:`harness.dockerfile`: just enough of a Dockerfile parser to rehearse it;
* :mod:`harness.rehearsal`: the Dockerfile's steps without Docker;
* :mod:`harness.starter_model`: the starter's model, trained in this process by
  the template's own node functions (no project, no Kedro run).

Not shipped: the wheel holds ``kedro_mlops`` only. Importable from the
repository root, which pytest and the benchmarks put on ``sys.path``.
"""
