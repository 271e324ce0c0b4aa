#!/usr/bin/env bash
# The whole test suite from a fresh clone: setup, services, format, lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/services.sh
echo "test: format"; npx prettier --check . --log-level warn
echo "test: lint"; npx eslint . --max-warnings 0
echo "test: vitest"; npx vitest run "$@"
