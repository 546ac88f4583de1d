#!/usr/bin/env bash
# Create ./.venv (Python 3.11 if available) and install kedro-mlops with its dev tools.
# Run by scripts/demo.sh and scripts/test.sh; safe to run again.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$repo/.venv"
python=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x "$venv/bin/python" ]; then
  echo "==> creating $venv with $python"
  "$python" -m venv "$venv"
fi
# uv installs the dependencies in seconds; bring it into the environment if it
# is not there (a venv made by uv itself has no pip, hence ensurepip).
if [ ! -x "$venv/bin/uv" ]; then
  "$venv/bin/python" -m pip --version >/dev/null 2>&1 || "$venv/bin/python" -m ensurepip --upgrade >/dev/null
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check uv
fi
echo "==> installing kedro-mlops (editable) and its dev tools into .venv"
# With bytecode: uv writes none unless asked, and where PYTHONDONTWRITEBYTECODE
# is set every Python process would compile every module it imports.
"$venv/bin/uv" pip install --quiet --compile-bytecode --python "$venv/bin/python" -e "$repo[dev]"
