#!/usr/bin/env bash
# The one test command (npm test, .ci/run): type-check, then every node:test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "node $(node --version)" >&2
tsc --noEmit -p .
node --test --test-concurrency=2 --test-timeout=1800000 \
  'common/**/*.test.ts' 'cli/**/*.test.ts' 'agent/**/*.test.ts' 'controller/**/*.test.ts' 'test/**/*.test.ts' "$@"
