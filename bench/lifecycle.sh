#!/usr/bin/env bash
# 20 detached containers with skiff and 20 with podman, side by side:
#   - `skiff ps` vs `podman ps` with all 40 running (hyperfine medians, ratio; goal: skiff <= 0.5x podman),
#     and `skiff ps` through the Node CLI (SKIFF_PS_NODE=1) instead of the native fast path
#   - the per-container monitor's RSS: skiff's monitor (monitor.json's monitorPid, else the detached
#     skiff-shim that is the init's parent) vs podman's conmon (VmRSS, mean over the 20)
# Everything it starts is removed on exit. Env: N (containers per engine, default 20), RUNS.
source "$(dirname "$0")/common.sh"
N=${N:-20}
bench_registry
bench_stores

cleanup() {
  "$SKIFF" ps -aq 2>/dev/null | xargs -r "$SKIFF" rm -f >/dev/null 2>&1 || true
  "${PODMAN[@]}" rm -f -t 0 -a >/dev/null 2>&1 || true
  "${PODMAN[@]}" system reset -f >/dev/null 2>&1 || true
  "$SKIFF" system reset --force >/dev/null 2>&1 || true
  # containers/storage bind-mounts its overlay dir onto itself; reset leaves that mount behind
  awk -v t="$BENCH_TMP" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r | xargs -r -n1 umount 2>/dev/null || true
  bench_cleanup # the registry; BENCH_TMP only if this run made it (and not with BENCH_KEEP=1)
}
trap cleanup EXIT

"$SKIFF" pull -q "$IMAGE" >/dev/null
"${PODMAN[@]}" pull -q --tls-verify=false "$IMAGE" >/dev/null
for i in $(seq 1 "$N"); do
  "$SKIFF" run -d --name "skiff-bench-$i" "$IMAGE" sleep 3600 >/dev/null
  # explicit ulimits: with podman's defaults crun fails here (setrlimit RLIMIT_NPROC: EPERM)
  "${PODMAN[@]}" run -d --name "podman-bench-$i" --network=none --ulimit nproc=1024:1024 --ulimit nofile=1024:1024 "$IMAGE" sleep 3600 >/dev/null
done
echo "== $N detached containers each: $("$SKIFF" ps -q | wc -l) skiff, $("${PODMAN[@]}" ps -q | wc -l) podman running"

# the third: the same listing through the Node CLI (what bin/skiff's native fast path saves)
hyperfine -N --warmup 3 --runs "${RUNS}" --export-json "$BENCH_TMP/ps.json" "$SKIFF ps" "${PODMAN[*]} ps" "env SKIFF_PS_NODE=1 $SKIFF ps" >&2
echo "== ps with $N running (ratio to skiff; > 1 means slower than skiff)"
ratios "$BENCH_TMP/ps.json"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
  const x = r[0].median / r[1].median;
  console.log(`skiff ps / podman ps = ${x.toFixed(2)}x (goal <= 0.50x: ${x <= 0.5 ? "met" : "missed"})`);
' "$BENCH_TMP/ps.json"

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
skiff_kib=0; podman_kib=0; n_skiff=0; n_podman=0
for id in $("$SKIFF" ps -q --no-trunc); do
  dir="$SKIFF_ROOT/containers/$id"
  mon=""
  if [ -f "$dir/monitor.json" ]; then mon=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).monitorPid)' "$dir/monitor.json"); fi
  if [ -z "$mon" ]; then mon=$(awk '{print $4}' "/proc/$(cat "$dir/pid")/stat"); fi
  k=$(rss "$mon"); [ -n "$k" ] && { skiff_kib=$((skiff_kib + k)); n_skiff=$((n_skiff + 1)); }
done
for c in $("${PODMAN[@]}" ps -q); do
  k=$(rss "$("${PODMAN[@]}" inspect --format '{{.State.ConmonPid}}' "$c")"); [ -n "$k" ] && { podman_kib=$((podman_kib + k)); n_podman=$((n_podman + 1)); }
done
echo "== monitor RSS per container (VmRSS, mean)"
node -e '
  const [s, ns, p, np] = process.argv.slice(1).map(Number);
  const ms = s / Math.max(ns, 1), mp = p / Math.max(np, 1);
  console.log(`skiff monitor (skiff-shim) ${(ms / 1024).toFixed(2)} MiB over ${ns}   conmon ${(mp / 1024).toFixed(2)} MiB over ${np}   ratio ${(ms / mp).toFixed(2)} (goal <= 1 MiB)`);
' "$skiff_kib" "$n_skiff" "$podman_kib" "$n_podman"
