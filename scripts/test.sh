#!/usr/bin/env bash
# The whole test suite from a fresh clone: setup, services, format, lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# The repository is self-contained: no tracked file (docs aside) reads the shared folder beside the
# clone. Upstream CRDs live in packages/kube/crds. (The pattern is bracketed so it does not match itself.)
echo "test: self-contained"
found=0
outside=$(git grep -lE '[.][.]/shared|/shared/crd[s]' -- ':!*.md') || found=$?
if ((found == 0)); then
  echo "test: these tracked files read the shared folder beside the clone, which a clone does not have:" >&2
  echo "$outside" >&2
  exit 1
elif ((found != 1)); then
  echo "test: the self-contained check needs a git work tree (git grep exited $found)" >&2
  exit 1
fi
bash scripts/setup.sh
bash scripts/services.sh
# The static checks use the CPU; the tests mostly wait on services, sockets and child processes. The
# checks run beside the tests (first failure stops them), their output kept and printed after the
# tests, in order; either failing fails the run.
checks_log=$(mktemp)
(
  set -e
  echo "test: format"; npx prettier --check . --log-level warn
  echo "test: lint"; npx eslint . --max-warnings 0
  echo "test: console web types"; npx tsc -p packages/console/web/tsconfig.json
  echo "test: imports"; node scripts/check-imports.mjs
  echo "test: dead exports"; npx knip
) >"$checks_log" 2>&1 &
checks=$!
echo "test: vitest (format, lint, types, imports and dead exports run beside it; their output follows)"
tests_status=0
npx vitest run "$@" || tests_status=$?
checks_status=0
wait "$checks" || checks_status=$?
cat "$checks_log"
rm -f "$checks_log"
((checks_status == 0)) || echo "test: a static check failed (its output is above)" >&2
((tests_status == 0)) || echo "test: vitest failed (exit $tests_status; its output is above the checks')" >&2
if ((tests_status)); then exit "$tests_status"; fi
exit "$checks_status"
