#!/usr/bin/env bash
# Set up .venv and run everything CI checks: lint, format, the test suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not integration"`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bash "$repo/scripts/setup-env.sh"
cd "$repo"
export PATH="$repo/.venv/bin:$PATH"
echo "==> ruff check"; ruff check .
echo "==> ruff format --check"; ruff format --check .
echo "==> pytest"; python -m pytest "$@"
