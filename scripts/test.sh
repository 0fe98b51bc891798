#!/usr/bin/env bash
# The test driver behind `make test`: starts the fixture registries, builds the fixture images, runs
# the unit and end-to-end suites as root (rootful), then the end-to-end suite again as an unprivileged
# user with a subuid range (rootless). Prints "N passed, N failed" at the end.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d /tmp/skiff-ci.XXXXXX)
chmod 755 "$TMP"
cleanup() {
  bash "$REPO/scripts/registry.sh" stop "$TMP/reg" >/dev/null 2>&1
  bash "$REPO/scripts/registry.sh" stop "$TMP/authreg" >/dev/null 2>&1
}
trap cleanup EXIT
export SKIFF_TEST_REGISTRY SKIFF_TEST_AUTH_REGISTRY SKIFF_TEST_FIXTURES
SKIFF_TEST_REGISTRY=$(bash "$REPO/scripts/registry.sh" start "$TMP/reg") || exit 1
SKIFF_TEST_AUTH_REGISTRY=$(bash "$REPO/scripts/registry.sh" start "$TMP/authreg" --auth) || exit 1
FIXDIR=${SKIFF_FIXTURES_DIR:-/var/tmp/skiff-fixtures}
bash "$REPO/scripts/make-fixtures.sh" "$SKIFF_TEST_REGISTRY" "$FIXDIR" || exit 1
SKIFF_TEST_FIXTURES="$FIXDIR/fixtures.json"
chmod a+rx "$FIXDIR"; chmod a+r "$FIXDIR/fixtures.json"

pass=0; fail=0
tally() { # parse node:test's summary lines
  local p f
  p=$(grep -E '^# pass [0-9]+' "$1" | tail -1 | awk '{print $3}')
  f=$(grep -E '^# fail [0-9]+' "$1" | tail -1 | awk '{print $3}')
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
  if [ -z "$p" ]; then fail=$((fail + 1)); echo "test run produced no summary: $1" >&2; fi
}

echo "== rootful: unit + e2e (as root)"
node --test --test-concurrency=1 --test-reporter=tap "$REPO"/dist/test/unit/*.test.js "$REPO"/dist/test/e2e/*.test.js 2>&1 | tee "$TMP/rootful.tap" | grep -E '^not ok|^# (pass|fail)' 
tally "$TMP/rootful.tap"

echo "== rootless: e2e (as skiffci)"
uid=$(bash "$REPO/scripts/rootless-user.sh")
# the user may not reach the clone's directory: give it a readable copy of what runs
cp -a "$REPO/dist" "$REPO/bin" "$REPO/package.json" "$TMP/" && ln -s "$REPO/node_modules" "$TMP/node_modules" 2>/dev/null
chmod -R a+rX "$TMP/dist" "$TMP/bin"
rundir="/tmp/skiff-xdg-$uid"; mkdir -p "$rundir"; chown "$uid" "$rundir"; chmod 700 "$rundir"
runuser -u skiffci -- env HOME=/home/skiffci XDG_RUNTIME_DIR="$rundir" SKIFF_TEST_ROOTLESS=1 \
  SKIFF_TEST_REGISTRY="$SKIFF_TEST_REGISTRY" SKIFF_TEST_AUTH_REGISTRY="$SKIFF_TEST_AUTH_REGISTRY" \
  SKIFF_TEST_FIXTURES="$SKIFF_TEST_FIXTURES" SKIFF_BIN="$TMP/bin/skiff" PATH="$PATH" \
  node --test --test-concurrency=1 --test-reporter=tap "$TMP"/dist/test/e2e/*.test.js 2>&1 | tee "$TMP/rootless.tap" | grep -E '^not ok|^# (pass|fail)'
tally "$TMP/rootless.tap"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
