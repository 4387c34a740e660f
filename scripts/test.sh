#!/usr/bin/env bash
# Installs the test dependencies (Python packages, Chromium, PostgreSQL role and database) and runs
# every test on SQLite and PostgreSQL. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e ".[test]"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Chromium for the browser tests (Debian's package; Playwright drives it, it does not download one).
if ! command -v chromium >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# PostgreSQL 15 (installed, not running, password auth): start it, make a test role and database.
if [ -z "${FACHSTELLE_TEST_DATABASE_URL:-}" ]; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  as_root pg_ctlcluster 15 main start 2>/dev/null || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  as_root su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='fachstelle'\"" | grep -q 1 \
    || as_root su postgres -c "psql -qc \"CREATE ROLE fachstelle LOGIN PASSWORD 'fachstelle' CREATEDB\""
  as_root su postgres -c "psql -qc 'DROP DATABASE IF EXISTS fachstelle_test'" >/dev/null
  as_root su postgres -c "psql -qc 'CREATE DATABASE fachstelle_test OWNER fachstelle'" >/dev/null
  export FACHSTELLE_TEST_DATABASE_URL="postgresql+psycopg://fachstelle:fachstelle@127.0.0.1:5432/fachstelle_test"
fi

mkdir -p test-artifacts
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
