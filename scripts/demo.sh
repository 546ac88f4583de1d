#!/usr/bin/env bash
# The main job, from nothing: set up .venv, generate a starter project in
# demo/churn-model, train it, score the production batch, say where results are.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bash "$repo/scripts/setup-env.sh"
export PATH="$repo/.venv/bin:$PATH"
mkdir -p "$repo/demo"
rm -rf "$repo/demo/churn-model"
cd "$repo/demo"
echo "==> kedro new --starter=mlops --name churn-model"
kedro new --starter=mlops --name churn-model
cd churn-model
echo "==> kedro run --pipelines training"
kedro run --pipelines training
echo "==> kedro run --pipelines inference"
kedro run --pipelines inference
python "$repo/scripts/demo_summary.py" "$PWD"
