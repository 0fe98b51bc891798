#!/usr/bin/env bash
# `cp` of a ~100 MB directory tree (2000 files of 48 KiB in 40 directories, plus symlinks) out of a
# container, skiff vs podman side by side (hyperfine medians, ratio; goal: skiff <= podman), for a
# created (never started) container and a running one. The tree is copied in once per engine first.
# Everything it makes is removed on exit. Env: RUNS (default 10).
source "$(dirname "$0")/common.sh"
bench_registry
bench_stores

cleanup() {
  "$SKIFF" rm -f cp-created cp-running >/dev/null 2>&1 || true
  "${PODMAN[@]}" rm -f -t 0 -a >/dev/null 2>&1 || true
  "${PODMAN[@]}" system reset -f >/dev/null 2>&1 || true
  awk -v t="$BENCH_TMP" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r | xargs -r -n1 umount 2>/dev/null || true
  bench_cleanup
}
trap cleanup EXIT

TREE="$BENCH_TMP/tree"
for d in $(seq 1 40); do
  mkdir -p "$TREE/d$d"
  for f in $(seq 1 50); do head -c 49152 /dev/urandom >"$TREE/d$d/f$f"; done
  ln -s "d$d/f1" "$TREE/link$d"
done
echo "== tree: $(du -sm "$TREE" | cut -f1) MB, $(find "$TREE" | wc -l) entries"

"$SKIFF" pull -q "$IMAGE" >/dev/null
"${PODMAN[@]}" pull -q --tls-verify=false "$IMAGE" >/dev/null
"$SKIFF" create --name cp-created "$IMAGE" >/dev/null
"$SKIFF" run -d --name cp-running "$IMAGE" sleep 3600 >/dev/null
"${PODMAN[@]}" create --name cp-created "$IMAGE" >/dev/null
"${PODMAN[@]}" run -d --name cp-running --network=none --ulimit nproc=1024:1024 --ulimit nofile=1024:1024 "$IMAGE" sleep 3600 >/dev/null
for c in cp-created cp-running; do
  "$SKIFF" cp "$TREE" "$c:/data"
  "${PODMAN[@]}" cp "$TREE" "$c:/data"
done

OUT="$BENCH_TMP/out"
for c in cp-created cp-running; do
  hyperfine -N --warmup 1 --runs "$RUNS" --prepare "rm -rf $OUT" --export-json "$BENCH_TMP/$c.json" \
    "$SKIFF cp $c:/data $OUT" "${PODMAN[*]} cp $c:/data $OUT" >&2
  echo "== cp out of a ${c#cp-} container (ratio to skiff; > 1 means slower than skiff)"
  ratios "$BENCH_TMP/$c.json"
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
    const x = r[0].median / r[1].median;
    console.log(`skiff / podman = ${x.toFixed(2)}x (goal <= 1: ${x <= 1 ? "met" : "missed"})`);
  ' "$BENCH_TMP/$c.json"
done
