"""The per-request cost of the schema check that a served starter model runs.

A served model runs ``kedro_mlops.schema.validate_scoring_batch`` on every
request, with a fresh deep copy of the project's schema (kedro-mlflow copies
the model's catalog for each prediction). Measured in one process with the
starter's schema and production batch, side by side and interleaved:

* the schema alone: recognising an unchanged copy (``parse_schema``'s cache)
  against parsing it again (pydantic validation and the derived names);
* the whole check of a 1-row and a 2,000-row batch, each call with its own
  copy of the schema, against the same check given a schema parsed anew.

It measures one function, so it imports the checkout rather than a wheel.

Target: recognising costs at most a quarter of parsing; the 1-row check stays
under 0.5 ms.

Usage: python benchmarks/schema_check.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import copy
import itertools
import sys
import timeit
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from kedro_mlops.schema import parse_schema, validate_scoring_batch  # noqa: E402
from kedro_mlops.schema.model import TableSchema  # noqa: E402

TEMPLATE = REPO / "starters/mlops/{{ cookiecutter.repo_name }}"


def best(function, number: int, rounds: int) -> float:
    """Best time of one call, in microseconds."""
    return min(timeit.repeat(function, number=number, repeat=rounds)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    params = yaml.safe_load((TEMPLATE / "conf/base/parameters.yml").read_text())
    schema = params["schema"]
    batch = pd.read_csv(TEMPLATE / "data/01_raw/batch_production.csv")
    # each call gets its own copy, as each request does
    copies = itertools.cycle([copy.deepcopy(schema) for _ in range(1000)])

    def request_copy() -> dict:
        return next(copies)

    def parsed_anew() -> TableSchema:
        return TableSchema.model_validate(request_copy())

    cases = {
        "schema: recognised": (lambda: parse_schema(request_copy()), 20000),
        "schema: parsed anew": (lambda: parsed_anew().allowed_text, 5000),
    }
    for rows, number in ((1, 500), (2000, 100)):
        frame = batch.head(rows)
        label = f"{rows} row" if rows == 1 else f"{rows} rows"
        cases[f"{label}: recognised"] = (
            lambda f=frame: validate_scoring_batch(f, request_copy()),
            number,
        )
        cases[f"{label}: parsed anew"] = (
            lambda f=frame: validate_scoring_batch(f, parsed_anew()),
            number,
        )
    times = dict.fromkeys(cases, float("inf"))
    for _ in range(3):  # interleaved: a slow spell weighs on every case alike
        for name, (function, number) in cases.items():
            times[name] = min(times[name], best(function, number, rounds))
    for name, microseconds in times.items():
        print(f"{name:24s} {microseconds:9.1f} us")
    ratio = times["schema: recognised"] / times["schema: parsed anew"]
    print(f"\nrecognised / parsed anew: {ratio:.2f} (target <= 0.25)")
    one_row = times["1 row: recognised"] / 1000
    print(f"1-row check: {one_row:.2f} ms (target < 0.5 ms)")


if __name__ == "__main__":
    main()
