#!/usr/bin/env bash
# The one test command (npm test, .ci/run): type-check, every node:test suite on Node.js, then
# the same suites on Deno 2 (the agent, controller and CLI run unchanged there; the end-to-end
# tests start them as Deno processes).
set -euo pipefail
cd "$(dirname "$0")/.."
suites=('common/**/*.test.ts' 'cli/**/*.test.ts' 'agent/**/*.test.ts' 'controller/**/*.test.ts' 'test/**/*.test.ts' 'bench/**/*.test.ts')
echo "== tsc --noEmit" >&2
tsc --noEmit -p .
# Node runs the suites in a zone with DST that is not UTC, so that nothing depends on the
# process's TZ (schedules default to UTC; see controller/schedule.ts); Deno runs them in UTC.
echo "== node $(node --version), TZ=${SIDESTASH_TEST_TZ:-America/New_York}" >&2
TZ="${SIDESTASH_TEST_TZ:-America/New_York}" node --test --test-concurrency=2 --test-timeout=1800000 "${suites[@]}" "$@"
if [ "${SIDESTASH_SKIP_DENO:-}" != "1" ]; then
  echo "== $(deno --version | head -1)" >&2
  # deno test takes directories; the same test files as above.
  TZ=UTC deno test --allow-all --no-check --parallel common agent controller test bench
fi
