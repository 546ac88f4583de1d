"""kedro-mlops: production MLOps for Kedro projects.

Installing the package is enough: the hooks and the ``mlops`` starter
register themselves through entry points. Heavy
libraries (mlflow, dvc, scipy, scikit-learn) are imported only where they are
used, so importing this package is cheap.
"""

__version__ = "0.1.0"
