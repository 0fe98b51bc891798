#!/usr/bin/env bash
# skiff pull vs podman pull of the Debian and multi-layer fixtures, stores cleared before each run.
source "$(dirname "$0")/common.sh"
bench_registry
export SKIFF_ROOT="$BENCH_TMP/skiff-root" SKIFF_RUNROOT="$BENCH_TMP/skiff-run"
PODMAN_ROOT="$BENCH_TMP/podman-root"
for img in debian:bookworm bench-layers:latest multilayer:latest; do
  hyperfine -N --runs "${PULL_RUNS:-5}" --export-json "$BENCH_TMP/pull-$img.json" \
    --prepare "rm -rf $SKIFF_ROOT $PODMAN_ROOT" \
    "$SKIFF pull -q $REGISTRY/$img" \
    "podman --root $PODMAN_ROOT pull -q --tls-verify=false $REGISTRY/$img" >&2
  echo "== pull $img (ratio to skiff; > 1 means podman is slower)"
  ratios "$BENCH_TMP/pull-$img.json"
done
