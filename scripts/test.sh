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
echo "test: format"; npx prettier --check . --log-level warn
echo "test: lint"; npx eslint . --max-warnings 0
echo "test: console web types"; npx tsc -p packages/console/web/tsconfig.json
echo "test: imports"; node scripts/check-imports.mjs
echo "test: dead exports"; npx knip
echo "test: vitest"; npx vitest run "$@"
