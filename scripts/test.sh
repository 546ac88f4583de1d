#!/usr/bin/env bash
# Set up .venv and run everything CI checks: lint, format, types, the test suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not integration"`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bash "$repo/scripts/setup-env.sh"
cd "$repo"
# The drift report test opens the HTML in a real headless Chromium.
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Chromium (Debian) for the drift report browser test"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The drift report test needs Chromium: install it (Debian: apt-get install chromium)" >&2
    echo "or point CHROMIUM at a Chromium/Chrome executable." >&2
    exit 1
  fi
fi
# The team-server tests start a throwaway PostgreSQL cluster.
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing PostgreSQL (Debian) for the team tracking server tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "The team tracking server tests need PostgreSQL's server programs: install them" >&2
    echo "(Debian: apt-get install postgresql) or put initdb on PATH." >&2
    exit 1
  fi
fi
export PATH="$repo/.venv/bin:$PATH"
echo "==> ruff check"; ruff check .
echo "==> ruff format --check"; ruff format --check .
echo "==> mypy"; mypy
echo "==> pytest"; python -m pytest "$@"
