#!/usr/bin/env bash
# skiff run --rm busybox true  vs  podman run, crun run, and node -e 0 (the floor), side by side.
# podman gets explicit --ulimit values: with its defaults crun fails here (setrlimit RLIMIT_NPROC: EPERM).
source "$(dirname "$0")/common.sh"
bench_registry
export SKIFF_ROOT="$BENCH_TMP/skiff-root" SKIFF_RUNROOT="$BENCH_TMP/skiff-run"
"$SKIFF" pull -q "$REGISTRY/busybox:latest" >/dev/null
podman pull -q --tls-verify=false "$REGISTRY/busybox:latest" >/dev/null
# crun needs an unpacked bundle: use skiff's own spec for the same image, minus the skiff extension.
BUNDLE="$BENCH_TMP/crun-bundle"
mkdir -p "$BUNDLE/rootfs"
podman export "$(podman create "$REGISTRY/busybox:latest" true)" | tar -C "$BUNDLE/rootfs" -xf -
(cd "$BUNDLE" && crun spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"true"/' config.json)
cmds=("$SKIFF run --rm $REGISTRY/busybox:latest true")
# a peer that cannot run here is left out and named, never silently
for c in "podman run --rm --network=none --ulimit nproc=1024:1024 --ulimit nofile=1024:1024 $REGISTRY/busybox:latest true" "crun run --bundle $BUNDLE bench-$$"; do
  if $c >/dev/null 2>"$BENCH_TMP/peer.err"; then cmds+=("$c"); else echo "skipped (fails here): $c: $(tail -1 "$BENCH_TMP/peer.err")" >&2; fi
done
cmds+=("node -e 0")
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$BENCH_TMP/run.json" "${cmds[@]}" >&2
echo "== skiff run --rm vs peers (ratio to skiff; < 1 means faster than skiff)"
ratios "$BENCH_TMP/run.json"
