#!/usr/bin/env bash
# The README's demo: a local registry with a busybox image made from Debian's busybox-static,
# pulled, listed and run by skiff. Leaves nothing running.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d /tmp/skiff-demo.XXXXXX)
trap 'bash "$REPO/scripts/registry.sh" stop "$TMP/reg"; rm -rf "$TMP"' EXIT
reg=$(bash "$REPO/scripts/registry.sh" start "$TMP/reg")
bash "$REPO/scripts/make-fixtures.sh" "$reg" "$TMP/fixtures" busybox
export SKIFF_ROOT="$TMP/store" SKIFF_RUNROOT="$TMP/run"
set -x
"$REPO/bin/skiff" pull "$reg/busybox:latest"
"$REPO/bin/skiff" images
"$REPO/bin/skiff" run --rm "$reg/busybox:latest" sh -c 'echo "hello from $(hostname), pid $$, $(id)"'
