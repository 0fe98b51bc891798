#!/usr/bin/env bash
# The test driver behind `make test` (after the build), as root:
#   1. an open and an htpasswd registry (scripts/registry.sh), the fixture images (scripts/make-fixtures.sh)
#   2. unit + end-to-end suites as root (rootful)
#   3. the end-to-end suite again as the unprivileged user skiffci with a subuid range (rootless),
#      from a world-readable copy of dist/, bin/ and node_modules/
# Always stops the registries. Last line: "N passed, N failed" (both runs; a run that crashes or
# prints no summary counts as one failure). Exit status 0 only when nothing failed.
# Env: SKIFF_FIXTURES_DIR (fixture cache, default /var/tmp/skiff-fixtures), SKIFF_TEST_KEEP=1 (keep the temp dir),
#      SKIFF_TEST_SKIP_ROOTLESS=1 (rootful run only), SKIFF_TEST_SKIP_ROOTFUL=1 (rootless run only), SKIFF_TEST_ONLY="name ..." (only the test files whose
#      names start with these words, e.g. "run build" → run.test.js, build.test.js; for working on one area),
#      SKIFF_TEST_BIN (the skiff under test, a path in the repository: bin/skiff by default, dist/skiff for
#      the single executable of `make dist`: what `make test` and CI run),
#      SKIFF_TEST_CHECKOUT="name ..." (with SKIFF_TEST_BIN other than bin/skiff: these test files run once
#      more against the checkout's bin/skiff, rootful and rootless, for what only its launcher does).
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" != 0 ]; then echo "Error: scripts/test.sh runs as root (it also creates the rootless test user)" >&2; exit 1; fi
BIN=${SKIFF_TEST_BIN:-bin/skiff}
case $BIN in /* | *..*) echo "Error: SKIFF_TEST_BIN=$BIN: give a path inside the repository, such as dist/skiff" >&2; exit 1 ;; esac
[ -x "$REPO/$BIN" ] || { echo "Error: SKIFF_TEST_BIN: $REPO/$BIN is not an executable (dist/skiff: run 'make dist')" >&2; exit 1; }
export SKIFF_BIN="$REPO/$BIN"
echo "test: skiff under test: $BIN"
TMP=$(mktemp -d /tmp/skiff-ci.XXXXXX)
chmod 0755 "$TMP"
pass=0; fail=0; skipped=0

cgdeleg=""
cleanup() {
  if [ -n "$cgdeleg" ]; then # the delegated cgroup of the rootless run (empty once its processes are gone)
    # what outlived the run there (Podman's rootless pause process, which the peer tests start and
    # Podman keeps by design) goes back to the root group, so that the group can go
    # (in any group of the tree)
    for p in $(find "$cgdeleg" -name cgroup.procs -exec cat {} + 2>/dev/null); do echo "$p" >"${cgdeleg%/*}/cgroup.procs" 2>/dev/null; done
    # processes still exiting keep their groups busy for a moment: up to 5 s for the tree to empty,
    # then the groups go, deepest first
    for _ in $(seq 50); do
      [ -z "$(find "$cgdeleg" -name cgroup.procs -exec cat {} + 2>/dev/null)" ] && break
      sleep 0.1
    done
    find "$cgdeleg" -depth -mindepth 1 -type d -exec rmdir {} \; 2>/dev/null
    rmdir "$cgdeleg" 2>/dev/null || echo "test: warning: $cgdeleg still holds processes: $(find "$cgdeleg" -name cgroup.procs -exec cat {} + 2>/dev/null | tr '\n' ' ')" >&2
  fi
  bash "$REPO/scripts/registry.sh" stop "$TMP/reg" >/dev/null 2>&1
  bash "$REPO/scripts/registry.sh" stop "$TMP/authreg" >/dev/null 2>&1
  if [ "${SKIFF_TEST_KEEP:-}" = 1 ]; then echo "test: kept $TMP"; else rm -rf "$TMP" 2>/dev/null; fi
}
trap cleanup EXIT
trap 'echo "test: interrupted"; exit 130' INT TERM
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }
setup_failed() { echo "test: setup failed: $*" >&2; fail=$((fail + 1)); finish; }

# ---- registries and fixtures -----------------------------------------------------------------------
export SKIFF_TEST_REGISTRY SKIFF_TEST_AUTH_REGISTRY SKIFF_TEST_FIXTURES
SKIFF_TEST_REGISTRY=$(bash "$REPO/scripts/registry.sh" start "$TMP/reg") || setup_failed "open registry (log: $TMP/reg/log)"
SKIFF_TEST_AUTH_REGISTRY=$(bash "$REPO/scripts/registry.sh" start "$TMP/authreg" --auth) || setup_failed "auth registry (log: $TMP/authreg/log)"
echo "test: registries $SKIFF_TEST_REGISTRY (open), $SKIFF_TEST_AUTH_REGISTRY (auth)"
FIXDIR=${SKIFF_FIXTURES_DIR:-/var/tmp/skiff-fixtures}
SKIFF_TEST_FIXTURES="$TMP/fixtures.json" # per run: other runs may share FIXDIR with other registries
start=$(date +%s)
FIXTURES_JSON="$SKIFF_TEST_FIXTURES" bash "$REPO/scripts/make-fixtures.sh" "$SKIFF_TEST_REGISTRY" "$FIXDIR" ||
  setup_failed "fixtures (log: $FIXDIR/make-fixtures.log)"
echo "test: fixtures ready in $(($(date +%s) - start))s"

# ---- node:test runs --------------------------------------------------------------------------------
# tally NAME RC: add a run's counts from its TAP file (node's "# pass N" / "# fail N" / "# cancelled N")
tally() {
  local tap="$TMP/$1.tap" rc=$2 p f c s
  p=$(grep -E '^# pass [0-9]+$' "$tap" 2>/dev/null | tail -1 | awk '{print $3}')
  f=$(grep -E '^# fail [0-9]+$' "$tap" 2>/dev/null | tail -1 | awk '{print $3}')
  c=$(grep -E '^# cancelled [0-9]+$' "$tap" 2>/dev/null | tail -1 | awk '{print $3}')
  s=$(grep -E '^# skipped [0-9]+$' "$tap" 2>/dev/null | tail -1 | awk '{print $3}')
  if [ -z "$p" ]; then
    echo "test: $1: no test summary (exit $rc)" >&2
    fail=$((fail + 1))
    return
  fi
  pass=$((pass + p)); fail=$((fail + ${f:-0} + ${c:-0})); skipped=$((skipped + ${s:-0}))
  if [ "$rc" != 0 ] && [ "$((${f:-0} + ${c:-0}))" = 0 ]; then
    echo "test: $1: node exited $rc with no failed test" >&2
    fail=$((fail + 1))
  fi
  echo "test: $1: $p passed, $((${f:-0} + ${c:-0})) failed, ${s:-0} skipped"
}
# spec reporter for people, TAP to a file for the tally
# A test file that hangs fails after FILE_TIMEOUT ms (node's --test-timeout bounds each file's process)
# instead of holding the run until CI's own limit kills everything; a file takes 4 minutes at most today.
FILE_TIMEOUT=${SKIFF_TEST_FILE_TIMEOUT:-1200000}
reporters() { echo --test-timeout="$FILE_TIMEOUT" --test-reporter=spec --test-reporter-destination=stdout --test-reporter=tap --test-reporter-destination="$1"; }

# test_files DIR...: the test files to run (all of them, or those SKIFF_TEST_ONLY names)
test_files() {
  if [ -z "${SKIFF_TEST_ONLY:-}" ]; then echo "$@"; return; fi
  local d w f
  for d in "$@"; do for w in $SKIFF_TEST_ONLY; do for f in "$d"/"$w"*.test.js; do [ -e "$f" ] && echo "$f"; done; done; done
}
# checkout_files DIR...: the files SKIFF_TEST_CHECKOUT names, when the main runs are not bin/skiff's
checkout_files() {
  [ "$BIN" != bin/skiff ] && [ -n "${SKIFF_TEST_CHECKOUT:-}" ] || return 0
  SKIFF_TEST_ONLY=$SKIFF_TEST_CHECKOUT test_files "$@"
}
rootful_files=$(cd "$REPO" && test_files dist/test/unit dist/test/e2e dist/test/adversarial)
if [ "${SKIFF_TEST_SKIP_ROOTFUL:-}" = 1 ]; then
  echo "== rootful: skipped (SKIFF_TEST_SKIP_ROOTFUL=1)"
  rootful_files=""
else
  echo "== rootful: unit + e2e (as root)"
fi
if [ -n "$rootful_files" ]; then
  (cd "$REPO" && node --test --test-concurrency=1 $(reporters "$TMP/rootful.tap") $rootful_files)
  tally rootful $?
fi
checkout=""; [ "${SKIFF_TEST_SKIP_ROOTFUL:-}" = 1 ] || checkout=$(cd "$REPO" && checkout_files dist/test/e2e)
if [ -n "$checkout" ]; then
  echo "== rootful: the checkout's bin/skiff ($SKIFF_TEST_CHECKOUT)"
  (cd "$REPO" && SKIFF_BIN="$REPO/bin/skiff" node --test --test-concurrency=1 $(reporters "$TMP/rootful-checkout.tap") $checkout)
  tally rootful-checkout $?
fi

# ---- rootless -----------------------------------------------------------------------------------------
if [ "${SKIFF_TEST_SKIP_ROOTLESS:-}" = 1 ]; then
  echo "== rootless: skipped (SKIFF_TEST_SKIP_ROOTLESS=1)"
  finish
fi
[ -n "$(cd "$REPO" && test_files dist/test/e2e dist/test/adversarial)" ] || finish
echo "== rootless: e2e (as skiffci)"
uid=$(bash "$REPO/scripts/rootless-user.sh") || setup_failed "rootless user"
home=$(getent passwd skiffci | cut -d: -f6)
# The clone (and its node_modules) may sit where the user cannot reach (/root/...): the user runs a
# world-readable copy. bin/skiff finds dist/ relative to itself, the tests find node_modules by walking up.
app="$TMP/app"
mkdir -p "$app"
cp -a "$REPO/dist" "$REPO/bin" "$REPO/package.json" "$REPO/node_modules" "$app/" || setup_failed "copy for the rootless user"
chmod -R a+rX "$app"
chmod a+r "$SKIFF_TEST_FIXTURES"
rootless_files=$(test_files "$app/dist/test/e2e" "$app/dist/test/adversarial")
xdg="$TMP/xdg-$uid"
mkdir -m 0700 "$xdg" && chown "$uid:$uid" "$xdg"
runuser -u skiffci -- test -x "$app/$BIN" -a -r "$SKIFF_TEST_FIXTURES" || setup_failed "the copy is not readable by skiffci"
# Delegate a cgroup v2 group to the user, as systemd's user@.service does (the dir and its
# cgroup.procs/threads/subtree_control are the user's), and run the suite inside it: rootless
# containers then get a cgroup of their own (pause, stats). Inside it, nodeleg/ is not delegated
# (root's dir; only its cgroup.procs is the user's, so a test can move a process there) for the
# test of the clear error without one.
v2=$(findmnt -n -t cgroup2 -o TARGET 2>/dev/null | head -1)
if [ -n "$v2" ] && mkdir "$v2/skiff-ci-$$" 2>/dev/null; then
  cgdeleg="$v2/skiff-ci-$$"
  chown "$uid:$uid" "$cgdeleg" "$cgdeleg/cgroup.procs" "$cgdeleg/cgroup.threads" "$cgdeleg/cgroup.subtree_control" &&
    mkdir "$cgdeleg/nodeleg" && chown "$uid:$uid" "$cgdeleg/nodeleg/cgroup.procs" || setup_failed "delegate $cgdeleg"
  echo "test: rootless run in the delegated cgroup ${cgdeleg#"$v2"}"
fi
# rootless NAME BIN FILES...: one node:test run as skiffci, in the delegated cgroup
rootless() {
  local name=$1 bin=$2
  shift 2
  : >"$TMP/$name.tap"; chmod a+w "$TMP/$name.tap"
  (cd "$app" && { [ -z "$cgdeleg" ] || echo "$BASHPID" >"$cgdeleg/cgroup.procs"; } && runuser -u skiffci -- env -i \
    SKIFF_TEST_CGROUP="$cgdeleg" SKIFF_TEST_CGROUP_NODELEG="${cgdeleg:+$cgdeleg/nodeleg}" \
    PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin HOME="$home" USER=skiffci LOGNAME=skiffci \
    LANG=C.UTF-8 TMPDIR=/tmp XDG_RUNTIME_DIR="$xdg" \
    SKIFF_TEST_ROOTLESS=1 SKIFF_BIN="$app/$bin" SKIFF_TEST_FIXTURES="$SKIFF_TEST_FIXTURES" \
    SKIFF_TEST_REGISTRY="$SKIFF_TEST_REGISTRY" SKIFF_TEST_AUTH_REGISTRY="$SKIFF_TEST_AUTH_REGISTRY" \
    node --test --test-concurrency=1 $(reporters "$TMP/$name.tap") "$@")
  tally "$name" $?
}
rootless rootless "$BIN" $rootless_files
checkout=$(checkout_files "$app/dist/test/e2e")
if [ -n "$checkout" ]; then
  echo "== rootless: the checkout's bin/skiff ($SKIFF_TEST_CHECKOUT)"
  rootless rootless-checkout bin/skiff $checkout
fi

finish
