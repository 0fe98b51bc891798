#!/usr/bin/env bash
# The Engine API side by side: the Debian `docker` CLI against `skiff system service` and against
# `podman system service`, each on its own socket and store:
#   - `docker run --rm busybox true` (hyperfine medians, ratio; goal: skiff <= 0.5x podman)
#   - `docker ps` with N (default 20) running containers per engine (goal: skiff <= 0.5x podman)
# Both services run with --time 0 for the measurement and are stopped on exit. Env: N, RUNS.
source "$(dirname "$0")/common.sh"
N=${N:-20}
bench_registry
bench_stores
SKIFF_SOCK="$SKIFF_RUNROOT/docker.sock"
PODMAN_SOCK="$BENCH_TMP/podman.sock"

cleanup() {
  [ -n "${skiff_pid:-}" ] && kill "$skiff_pid" 2>/dev/null
  [ -n "${podman_pid:-}" ] && kill "$podman_pid" 2>/dev/null
  "$SKIFF" ps -aq 2>/dev/null | xargs -r "$SKIFF" rm -f >/dev/null 2>&1 || true
  "${PODMAN[@]}" rm -f -t 0 -a >/dev/null 2>&1 || true
  "${PODMAN[@]}" system reset -f >/dev/null 2>&1 || true
  "$SKIFF" system reset --force >/dev/null 2>&1 || true
  awk -v t="$BENCH_TMP" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r | xargs -r -n1 umount 2>/dev/null || true
  bench_cleanup
}
trap cleanup EXIT

"$SKIFF" system service --time 0 & skiff_pid=$!
"${PODMAN[@]}" system service --time 0 "unix://$PODMAN_SOCK" & podman_pid=$!
for _ in $(seq 100); do [ -S "$SKIFF_SOCK" ] && [ -S "$PODMAN_SOCK" ] && break; sleep 0.1; done
DS=(docker -H "unix://$SKIFF_SOCK")
DP=(docker -H "unix://$PODMAN_SOCK")
"${DS[@]}" pull -q "$IMAGE" >/dev/null
"${PODMAN[@]}" pull -q --tls-verify=false "$IMAGE" >/dev/null
# podman's defaults fail here (setrlimit RLIMIT_NPROC: EPERM): explicit ulimits, as bench/lifecycle.sh
hyperfine -N --warmup 2 --runs "${RUNS}" --export-json "$BENCH_TMP/run.json" \
  "${DS[*]} run --rm $IMAGE true" \
  "${DP[*]} run --rm --network none --ulimit nproc=1024:1024 --ulimit nofile=1024:1024 $IMAGE true" >&2
echo "== docker run --rm busybox true (ratio to skiff's service)"
ratios "$BENCH_TMP/run.json"
for i in $(seq 1 "$N"); do
  "${DS[@]}" run -d "$IMAGE" sleep 3600 >/dev/null
  "${DP[@]}" run -d --network none --ulimit nproc=1024:1024 --ulimit nofile=1024:1024 "$IMAGE" sleep 3600 >/dev/null
done
hyperfine -N --warmup 2 --runs "${RUNS}" --export-json "$BENCH_TMP/ps.json" "${DS[*]} ps" "${DP[*]} ps" >&2
echo "== docker ps with $N running (ratio to skiff's service)"
ratios "$BENCH_TMP/ps.json"
