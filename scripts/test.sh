#!/usr/bin/env bash
# Install everything the tests need (a virtualenv, the Python packages, Debian's Chromium for the
# browser tests and Debian's PostgreSQL for the operational store's) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

# Debian's packages: Chromium for the browser tests, PostgreSQL for the operational store's tests
# (the tests start a throwaway server of their own; the package's service is not used).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

.venv/bin/ruff check .
# The layers of the architecture (README, Layout), as contracts in pyproject.toml ([tool.importlinter]).
.venv/bin/lint-imports
status=0
.venv/bin/python -m pytest "$@" || status=$?
# pytest exits 5 when it collected no tests: that is a failure of the suite here.
exit "$status"
