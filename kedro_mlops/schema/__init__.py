"""The table schema of a project: the ``schema:`` block of ``parameters.yml``.

One description of the table, read by every step that touches it:

.. code-block:: yaml

    schema:
      id_column: customer_id        # carried to the predictions, never a feature
      target:
        column: churned
        positive_class: "yes"       # compared as text
      numeric:                      # column: optional min and max, inclusive
        age: {min: 18, max: 110}
      categorical:                  # column: the allowed values
        plan: [basic, premium]

* :func:`parse_schema` validates the block into a :class:`TableSchema` (a
  wrong key is a :class:`SchemaConfigError` that names it), which also holds
  the derived names: ``feature_columns``, ``probability_column``
  (``<target>_probability``) and ``prediction_column`` (``<target>_prediction``).
* :func:`validate_training_table` and :func:`validate_scoring_batch` check a
  frame, as Kedro nodes, e.g.
  ``Node(validate_training_table, ["raw_customers", "params:schema"], "validated_customers")``.
  Data that breaks the schema is a :class:`SchemaError` listing every problem
  with its column and rows. Both are :func:`validate_table`.
* :func:`drift_settings` completes the ``drift:`` settings of ``mlops.yml``
  with the schema's prediction column and its id and target as ignored columns.

Importing this package loads pandas, NumPy and pydantic, not scikit-learn.

Example:
    >>> import pandas as pd
    >>> schema = {
    ...     "id_column": "customer_id",
    ...     "target": {"column": "churned", "positive_class": "yes"},
    ...     "numeric": {"age": {"min": 18, "max": 110}},
    ...     "categorical": {"plan": ["basic", "premium"]},
    ... }
    >>> parse_schema(schema).probability_column
    'churned_probability'
    >>> batch = pd.DataFrame({"customer_id": ["C1", "C2"], "age": ["42", 7], "plan": ["basic", "gold"]})
    >>> validate_scoring_batch(batch, schema)
    Traceback (most recent call last):
    ...
    kedro_mlops.schema.validate.SchemaError: The data does not match the schema (conf/base/parameters.yml, key 'schema'):
      - column 'age' has values outside [18, 110] ('7') in row 2
    Rows are counted from 1 at the first row of data (in a CSV file with a header line, row N is on line N + 1).
    Fix the data, or update the schema if the change is intended.
    >>> validate_scoring_batch(batch.head(1), schema)["age"].tolist()  # text became numbers
    [42.0]
"""

from __future__ import annotations

from .model import NumericRange, SchemaConfigError, TableSchema, Target, parse_schema
from .monitoring import drift_settings
from .validate import (
    SchemaError,
    validate_scoring_batch,
    validate_table,
    validate_training_table,
)

__all__ = [
    "NumericRange",
    "SchemaConfigError",
    "SchemaError",
    "TableSchema",
    "Target",
    "drift_settings",
    "parse_schema",
    "validate_scoring_batch",
    "validate_table",
    "validate_training_table",
]
