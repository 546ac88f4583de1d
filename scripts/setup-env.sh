#!/usr/bin/env bash
# Create ./.venv (Python 3.11 if available) and install kedro-mlops with its dev tools.
# Sourced by scripts/demo.sh and scripts/test.sh; safe to run again.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x "$repo/.venv/bin/python" ]; then
  echo "==> creating $repo/.venv with $python"
  "$python" -m venv "$repo/.venv"
fi
if [ ! -x "$repo/.venv/bin/uv" ]; then
  "$repo/.venv/bin/python" -m pip install --quiet --disable-pip-version-check uv
fi
echo "==> installing kedro-mlops (editable) and its dev tools into .venv"
"$repo/.venv/bin/uv" pip install --quiet --python "$repo/.venv/bin/python" -e "$repo[dev]"
