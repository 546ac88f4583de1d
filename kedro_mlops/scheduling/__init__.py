"""Schedules: the project's pipelines as Airflow DAGs, made by kedro-airflow.

kedro-mlops ships a Jinja template for ``kedro airflow create --jinja-file``
(``scaffold/templates/airflow_dag.j2``, written into projects as
``airflow_dag.j2``): one Airflow task per Kedro pipeline run, in the installed
project or in the production image, and a retraining trigger on the drift
check's decision. :mod:`~kedro_mlops.scheduling.airflow_settings` checks the
settings it reads from the project's ``airflow.yml`` before kedro-airflow
renders it.
"""
