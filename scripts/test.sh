#!/usr/bin/env bash
# Set up .venv and run everything CI checks: lint, format, types, the test suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not integration"`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bash "$repo/scripts/setup-env.sh"
cd "$repo"
# debian_package PACKAGE WHO: install a Debian package that WHO needs (as root
# with apt-get), or say how and stop.
debian_package() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing $1 (Debian) for $2"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
  else
    echo "$2 needs $1: install it (Debian: apt-get install $1)." >&2
    exit 1
  fi
}
# The drift report test opens the HTML in a real headless Chromium (or the
# Chromium/Chrome executable that CHROMIUM names).
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  debian_package chromium "the drift report's browser test"
fi
# The team-server tests start a throwaway PostgreSQL cluster.
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  debian_package postgresql "the team tracking server tests"
fi
# The Spark tests start a local Spark session, which runs on Java.
if [ -z "${JAVA_HOME:-}" ] && ! command -v java >/dev/null 2>&1; then
  debian_package openjdk-17-jre-headless "the Spark tests"
fi
export PATH="$repo/.venv/bin:$PATH"
echo "==> ruff check"; ruff check .
echo "==> ruff format --check"; ruff format --check .
echo "==> mypy"; mypy
echo "==> pytest"; python -m pytest "$@"
