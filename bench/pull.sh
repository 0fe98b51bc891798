#!/usr/bin/env bash
# skiff pull vs podman pull (its default overlay driver, same registry) of the Debian, 8-layer and
# multi-layer fixtures; both stores are empty before each run.
# The stores are moved aside between runs, not deleted: on a journal-less ext4 (this machine's
# root) the inode allocator steps over every inode freed in the last minutes, so creating files
# right after an `rm -rf` of a store costs 10-40x more (~0.4 ms instead of ~15 us per file) and
# the bench would measure the deletion's aftermath. The moved stores are removed at the end.
# Each run also starts with no dirty pages (`sync` in the prepare step, not timed): otherwise a run
# pays for the writeback of the run before it (~350 MB for Debian), which favours whoever goes first.
source "$(dirname "$0")/common.sh"
bench_registry
export SKIFF_ROOT="$BENCH_TMP/skiff-root" SKIFF_RUNROOT="$BENCH_TMP/skiff-run"
PODMAN_ROOT="$BENCH_TMP/podman-root"
TRASH="$BENCH_TMP/trash"
mkdir -p "$TRASH"
fresh="bash -c 'for d in \"\$@\"; do [ ! -e \"\$d\" ] || mv \"\$d\" \"$TRASH/\$(date +%s%N)\"; done; sync' _ $SKIFF_ROOT $PODMAN_ROOT"
echo "bench: podman storage driver: $(podman --root "$PODMAN_ROOT" info --format '{{.Store.GraphDriverName}}')" >&2
for img in debian:bookworm bench-layers:latest multilayer:latest; do
  hyperfine -N --runs "${PULL_RUNS:-5}" --export-json "$BENCH_TMP/pull-$img.json" \
    --prepare "$fresh" \
    "$SKIFF pull -q $REGISTRY/$img" \
    "podman --root $PODMAN_ROOT pull -q --tls-verify=false $REGISTRY/$img" >&2
  echo "== pull $img (ratio to skiff; > 1 means podman is slower; issue 2's goals: debian >= 1, multilayer >= 2)"
  ratios "$BENCH_TMP/pull-$img.json"
done
rm -rf "$TRASH" "$SKIFF_ROOT" "$PODMAN_ROOT"
