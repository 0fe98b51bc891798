#!/usr/bin/env bash
# The Engine API side by side: the Debian `docker` CLI against `skiff system service` and against
# `podman system service`, each on its own socket and store:
#   - `docker run --rm busybox true` (hyperfine medians, ratio; goal: skiff <= 0.5x podman)
#   - `docker ps` with N (default 20) running containers per engine (goal: skiff <= 0.5x podman), and
#     the same request without the docker client's start-up (curl --unix-socket GET /containers/json)
#   - socket activation: a service started by systemd-socket-activate on the first connection, timed
#     from curl's connect to the answer of /_ping (goal: skiff <= 100 ms; podman's for comparison)
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
# the floor of both rows: the docker client's own start-up, without a request
hyperfine -N --warmup 2 --runs "${RUNS}" --export-json "$BENCH_TMP/client.json" "docker --version" >&2
ratios "$BENCH_TMP/client.json"
CURL=(curl -sf -o /dev/null)
hyperfine -N --warmup 2 --runs "${RUNS}" --export-json "$BENCH_TMP/ps-api.json" \
  "${CURL[*]} --unix-socket $SKIFF_SOCK http://d/v1.41/containers/json" \
  "${CURL[*]} --unix-socket $PODMAN_SOCK http://d/v1.41/containers/json" >&2
echo "== GET /containers/json with $N running, curl (the server's side; ratio to skiff's service)"
ratios "$BENCH_TMP/ps-api.json"
# the services' own CPU time per request (utime+stime of the service process over 100 requests):
# what the machine's load does not inflate
cpu_per_request() { # NAME PID SOCK
  local a b
  a=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$2/stat")
  for _ in $(seq 100); do "${CURL[@]}" --unix-socket "$3" http://d/v1.41/containers/json; done
  b=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$2/stat")
  awk -v n="$1" -v t=$((b - a)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%-20s CPU per GET /containers/json %6.2f ms\n", n, t * 1000 / hz / 100 }'
}
cpu_per_request "skiff service" "$skiff_pid" "$SKIFF_SOCK"
cpu_per_request "podman service" "$podman_pid" "$PODMAN_SOCK"

# Socket activation: each round a fresh systemd-socket-activate listener; the service starts on the
# first connection (fd 3, LISTEN_FDS) and exits 1 s after it; curl's time_total is connect to answer.
activation() { # NAME SOCK COMMAND...: prints the median of RUNS first answers in ms
  local name=$1 sock=$2 times=() i t
  shift 2
  for i in $(seq 1 "$RUNS"); do
    rm -f "$sock"
    systemd-socket-activate -E SKIFF_ROOT -E SKIFF_RUNROOT -E PATH -l "$sock" -- "$@" >/dev/null 2>&1 & local act=$!
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
    sleep 0.3
    t=$(curl -sf -o /dev/null -w '%{time_total}' --unix-socket "$sock" http://d/_ping)
    times+=("$t")
    wait "$act" || true
  done
  rm -f "$sock"
  printf '%s\n' "${times[@]}" | sort -n | awk -v n="$name" '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%-20s first /_ping median %7.1f ms (min %.1f, max %.1f, %d runs)\n", n, m * 1000, a[1] * 1000, a[NR] * 1000, NR }'
}
echo "== socket activation: connect to the first answer of /_ping (goal: skiff <= 100 ms)"
activation "skiff service" "$BENCH_TMP/skiff-act.sock" "$SKIFF" system service --time 1
activation "podman service" "$BENCH_TMP/podman-act.sock" "${PODMAN[@]}" system service --time 1
