#!/usr/bin/env bash
# Format the starter template's Python files with ruff.
# The template's paths and imports hold cookiecutter placeholders, which ruff
# cannot parse, so: render a project, format it there, and copy the files back
# with the package name turned into the placeholder again.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
template="$repo/starters/mlops/{{ cookiecutter.repo_name }}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && kedro new --starter=mlops --name "Zz Starter Format" >/dev/null)
project="$work/zz-starter-format"
ruff check --fix --quiet "$project" || true
ruff format --quiet "$project"
(cd "$project" && find src tests -name '*.py') | while read -r rendered; do
  source_path="$template/${rendered//zz_starter_format/\{\{ cookiecutter.python_package \}\}}"
  sed -e "s/zz_starter_format/{{ cookiecutter.python_package }}/g" -e "s/zz-starter-format/{{ cookiecutter.repo_name }}/g" -e "s/Zz Starter Format/{{ cookiecutter.project_name }}/g" "$project/$rendered" > "$source_path"
done
ruff check "$project"
