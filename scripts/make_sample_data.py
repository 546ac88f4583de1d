"""Generate the starter's sample data: a customer churn table and two later batches.

The files are written into the starter template and shipped with the package;
a test regenerates them and checks the shipped bytes are identical.

* ``customers.csv``: 6,000 labelled customers (target ``churned``: yes/no),
  numeric and categorical columns, some missing values.
* ``batch_production.csv``: 2,000 later, unlabelled customers in which three
  columns have drifted: ``monthly_charges`` (prices went up by about 0.5
  standard deviation), ``contract`` (a push to month-to-month contracts) and
  ``support_tickets`` (an outage raised contact volume).
* ``batch_control.csv``: 2,000 later, unlabelled customers drawn from the same
  process as the training table: nothing has drifted.
* ``batch_production.parquet``, ``batch_control.parquet``: the two batches as
  pandas reads their CSV files, for the project's ``spark`` environment (Spark
  reads Parquet with its column types; a test checks the same rows and types).
* ``labels_production.csv``, ``labels_control.csv``: the true outcomes of the
  two batches (``customer_id``, ``churned``), as they arrive once the customers
  have stayed or left, later than the scores. They are the outcomes the same
  draw made for each batch's customers, from the same churn process as the
  training table: the production batch's shift is in the inputs only, and
  still the model does worse there (the realized ROC AUC and accuracy fall:
  more customers sit where the model is least sure).

With a dozen columns, a 5% test flags an unshifted column by chance in about
half of all draws. The two batch seeds were chosen so that no unshifted column
of either batch has a KS or chi-square p-value below 0.05 against the training
table: the sample data should teach what real drift looks like, not chance.

Usage:
    python scripts/make_sample_data.py [OUTPUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

TEMPLATE_DATA = (
    Path(__file__).resolve().parents[1]
    / "starters/mlops/{{ cookiecutter.repo_name }}/data/01_raw"
)

CONTRACTS = ["month-to-month", "one-year", "two-year"]
PAYMENTS = ["credit-card", "bank-transfer", "electronic-check", "mailed-check"]
INTERNET = ["dsl", "fiber", "none"]
REGIONS = ["north", "south", "east", "west"]


def make_customers(
    n: int,
    seed: int,
    *,
    first_id: int = 1,
    price_shift: float = 0.0,
    contract_mix: tuple[float, float, float] = (0.5, 0.3, 0.2),
    ticket_rate: float = 1.2,
) -> pd.DataFrame:
    """Draw ``n`` labelled customers from the churn process (optionally drifted)."""
    rng = np.random.default_rng(seed)
    contract = rng.choice(CONTRACTS, size=n, p=list(contract_mix))
    # Tenure does not depend on the contract drawn here, so that a drifted
    # contract mix leaves the tenure distribution untouched.
    tenure = np.clip(np.round(rng.exponential(18.0, n)), 0, 72).astype(int)
    internet = rng.choice(INTERNET, size=n, p=[0.4, 0.45, 0.15])
    base_price = np.select([internet == "fiber", internet == "dsl"], [80.0, 55.0], 25.0)
    monthly = np.clip(base_price + rng.normal(0, 12, n) + price_shift, 18.0, 150.0)
    # Past bills were paid at the old prices: a recent price change barely
    # moves the lifetime total.
    total = tenure * (monthly - price_shift) * rng.normal(1.0, 0.05, n)
    tickets = rng.poisson(ticket_rate, n)
    age = np.clip(np.round(rng.normal(45, 14, n)), 18, 90).astype(int)
    sessions = rng.gamma(2.0, 15.0, n)
    payment = rng.choice(PAYMENTS, size=n, p=[0.3, 0.25, 0.3, 0.15]).astype(object)
    paperless = rng.choice(["yes", "no"], size=n, p=[0.6, 0.4])
    region = rng.choice(REGIONS, size=n)

    logit = (
        -1.6
        + 1.3 * (contract == "month-to-month")
        - 0.9 * (contract == "two-year")
        - 0.045 * tenure
        + 0.025 * (monthly - 65.0)
        + 0.35 * tickets
        + 0.5 * (internet == "fiber")
        + 0.45 * (payment == "electronic-check")
        - 0.012 * (sessions - 30.0)
        + 0.2 * (paperless == "yes")
    )
    churned = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))

    # Missing values, as real exports have them.
    total_charges = np.round(total, 2)
    total_charges[rng.random(n) < 0.015] = np.nan
    sessions = np.round(sessions, 1)
    sessions[rng.random(n) < 0.03] = np.nan
    payment[rng.random(n) < 0.01] = None

    frame = pd.DataFrame(
        {
            "customer_id": [f"C{first_id + i:06d}" for i in range(n)],
            "age": age,
            "tenure_months": tenure,
            "monthly_charges": np.round(monthly, 2),
            "total_charges": total_charges,
            "support_tickets": tickets,
            "avg_session_minutes": sessions,
            "contract": contract,
            "payment_method": payment,
            "internet_service": internet,
            "paperless_billing": paperless,
            "region": region,
            "churned": np.where(churned, "yes", "no"),
        }
    )
    return frame


def generate(output_dir: Path) -> list[Path]:
    """Write the sample files into ``output_dir`` and return their paths."""
    output_dir.mkdir(parents=True, exist_ok=True)
    batches = {
        "production": make_customers(
            2000,
            seed=20240604,
            first_id=100001,
            price_shift=8.0,
            contract_mix=(0.7, 0.2, 0.1),
            ticket_rate=2.0,
        ),
        "control": make_customers(2000, seed=20240612, first_id=200001),
    }
    files = {"customers.csv": make_customers(6000, seed=20240101)}
    for name, batch in batches.items():
        files[f"batch_{name}.csv"] = batch.drop(columns=["churned"])
    for name, batch in batches.items():
        files[f"labels_{name}.csv"] = batch[["customer_id", "churned"]]
    paths = []
    for name, frame in files.items():
        path = output_dir / name
        frame.to_csv(path, index=False, lineterminator="\n")
        paths.append(path)
        if name.startswith("batch_"):
            copy = path.with_suffix(".parquet")
            pd.read_csv(path).to_parquet(copy, index=False)
            paths.append(copy)
    return paths


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATE_DATA
    for written in generate(target):
        print(f"wrote {written}")
