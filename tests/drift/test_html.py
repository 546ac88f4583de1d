"""The HTML report: self-contained, small, and clean in a real headless browser."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kedro_mlops.drift import DriftReport, detect_drift, render_html, save_html

from .browser import Browser, require_chromium

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
RAW = (
    Path(__file__).resolve().parents[2]
    / "starters/mlops/{{ cookiecutter.repo_name }}/data/01_raw"
)
NETWORK = re.compile(
    r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|url\(|@import|<script|<link|src=", re.I
)


@pytest.fixture(scope="module")
def report() -> DriftReport:
    # the starter's production batch against its drift reference, plus a
    # prediction column, a skipped datetime column and a new column
    train = pd.read_csv(RAW / "customers.csv").iloc[:4800]
    reference = train.sample(n=2000, random_state=42).drop(columns=["customer_id"])
    current = pd.read_csv(RAW / "batch_production.csv").drop(columns=["customer_id"])
    rng = np.random.default_rng(0)
    reference["churn_probability"] = rng.beta(2, 5, len(reference))
    current["churn_probability"] = rng.beta(2, 4, len(current))
    reference["signup"] = pd.Timestamp("2024-01-01")
    current["signup"] = pd.Timestamp("2024-06-01")
    current["batch_id"] = "b1"
    return detect_drift(
        reference.drop(columns="churned"),
        current,
        {"prediction_column": "churn_probability", "ignore_columns": []},
    )


def test_html_is_self_contained_and_small():
    rng = np.random.default_rng(1)
    n = 50_000
    data = {f"num{i}": rng.lognormal(0, 1, n) for i in range(20)}
    data |= {
        f"cat{i}": rng.choice([f"v{j}" for j in range(10**i)], n) for i in range(5)
    }
    reference = pd.DataFrame(data)
    current = reference.sample(frac=1.0, random_state=2).reset_index(drop=True) * 1
    page = render_html(
        detect_drift(reference, current.assign(num0=current["num0"] * 2))
    )
    assert not NETWORK.search(page), NETWORK.search(page)
    assert len(page.encode()) < 1_000_000  # bins, not rows: the same at 1M rows
    assert page.count('<section class="column') == 25


def test_html_escapes_column_names():
    frame = pd.DataFrame({"<b>x</b>": [1.0, 2.0, 3.0] * 20})
    page = render_html(detect_drift(frame, frame))
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_report_in_a_headless_browser(report, tmp_path):
    # given chromium (CI installs it: apt-get install chromium) and the report
    chromium = require_chromium("the HTML report")
    ARTIFACTS.mkdir(exist_ok=True)
    page = save_html(report, ARTIFACTS / "drift_report.html")
    # when the page is opened
    with Browser(chromium) as browser:
        browser.open(page.as_uri())
        drifted = browser.evaluate(
            "[...document.querySelectorAll('#summary tbody tr.drifted')]"
            ".map(row => row.dataset.column)"
        )
        rows = browser.evaluate("document.querySelectorAll('#summary tbody tr').length")
        badges = browser.evaluate(
            "[...document.querySelectorAll('#summary tr.drifted .badge')]"
            ".map(b => b.textContent)"
        )
        verdict = browser.evaluate("document.getElementById('verdict').textContent")
        charts = browser.evaluate("document.querySelectorAll('section svg').length")
        shot = browser.screenshot(ARTIFACTS / "drift_report.png")
        errors, requests = browser.console_errors(), browser.requested_urls()
    # then it shows no error, fetched nothing but itself, and lists the drifted
    # columns first in its summary table, marked
    assert errors == []
    assert requests == [page.as_uri()]
    assert drifted == report.drifted_columns
    assert sorted(drifted) == ["contract", "monthly_charges", "support_tickets"]
    assert badges == ["DRIFT"] * 3 and rows == len(report.columns)
    assert "3 of 11 feature columns drifted" in verdict
    assert "churn_probability" in verdict
    assert charts == 7  # the numeric columns and the prediction
    assert shot.stat().st_size > 10_000


def test_browser_harness_sees_errors_and_requests(tmp_path):
    # the check above means something only if the harness catches these
    chromium = require_chromium("the browser harness")
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><body><script>console.error('boom');"
        "undefinedFunction();</script><img src='http://127.0.0.1:9/x.png'></body></html>"
    )
    with Browser(chromium) as browser:
        browser.open(bad.as_uri())
        errors, requests = browser.console_errors(), browser.requested_urls()
    assert any("boom" in e for e in errors)
    assert any("undefinedFunction" in e for e in errors)
    assert "http://127.0.0.1:9/x.png" in requests


def test_a_trend_of_windows_adds_a_trend_section_with_gaps():
    from kedro_mlops.drift import TrendWindow

    rng = np.random.default_rng(3)
    reference = pd.DataFrame(
        {"x": rng.normal(size=500), "c": rng.choice(list("ab"), 500)}
    )
    calm = detect_drift(reference, reference.sample(300, random_state=1))
    drifted = detect_drift(reference, reference.assign(x=reference["x"] + 3))
    trend = [
        TrendWindow("2024-05-01T10", 300, calm),
        TrendWindow("2024-05-01T11", 0, None),
        TrendWindow("2024-05-01T12", 500, drifted),
    ]
    page = render_html(drifted, trend=trend, trend_columns=1)
    section = page[
        page.index('<section id="trend">') : page.index(
            "</section>", page.index('<section id="trend">')
        )
    ]
    # one small chart for the most severe column only, and every window listed
    assert section.count('<td class="spark">') == 1 and 'data-column="x"' in section
    assert [
        key in section for key in ("2024-05-01T10", "2024-05-01T11", "2024-05-01T12")
    ] == [True] * 3
    assert "not compared" in section  # the window without traffic
    # the drifted window's point is red, the calm one's is not; nothing is fetched
    assert section.count('fill="#c62828"') == 2  # the share and the column, last window
    assert "http://" not in page and "https://" not in page
    # a single window has no trend
    assert 'id="trend"' not in render_html(drifted, trend=trend[-1:])
