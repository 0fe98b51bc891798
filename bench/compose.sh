#!/usr/bin/env bash
# `skiff compose up -d` and `compose down` against Debian's podman-compose (1.0.3) for the same
# three-service file (web: busybox httpd on a published loopback port; db; worker with a named volume;
# worker depends on db), images already pulled into each tool's own store, rootful. The runs alternate
# (skiff up, skiff down, podman-compose up, podman-compose down), RUNS times (default 10); medians and
# ratios skiff/podman-compose. Also `compose config` of a 20-service file (skiff only; target <= 150 ms).
# podman-compose's network is podman's global one for the project (removed at the end).
# Usage: bash bench/compose.sh
source "$(dirname "$0")/common.sh"
[ "$(id -u)" = 0 ] || { echo "Error: bench/compose.sh runs as root" >&2; exit 1; }
command -v podman-compose >/dev/null || { echo "Error: podman-compose is not installed" >&2; exit 1; }
bench_registry
bench_stores
export SKIFF_ADDRESS_POOLS=10.220.0.0/16/24
PROJECT=skbench$$
PARGS="--root $BENCH_TMP/podman-root --runroot $BENCH_TMP/podman-run"
DIR="$BENCH_TMP/proj"
mkdir -p "$DIR"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
cat >"$DIR/compose.yaml" <<YAML
services:
  web:
    image: $IMAGE
    command: ["sh", "-c", "mkdir -p /w && echo hi >/w/index.html && exec httpd -f -p 80 -h /w"]
    ports: ["127.0.0.1:$PORT:80"]
    stop_signal: SIGKILL
  db:
    image: $IMAGE
    command: ["sleep", "1000"]
    stop_signal: SIGKILL
  worker:
    image: $IMAGE
    command: ["sh", "-c", "echo x >>/data/log && exec sleep 1000"]
    depends_on: [db]
    volumes: [data:/data]
    stop_signal: SIGKILL
volumes:
  data:
YAML
"$SKIFF" pull -q "$IMAGE" >/dev/null
"${PODMAN[@]}" pull -q --tls-verify=false "$IMAGE" >/dev/null
sk() { (cd "$DIR" && "$SKIFF" compose -p "$PROJECT" "$@") >/dev/null 2>&1; }
pc() { (cd "$DIR" && podman-compose --podman-args "$PARGS" -p "$PROJECT" "$@") >/dev/null 2>&1; }
cleanup_compose() {
  sk down -v -t 0 || true
  pc down -v -t 0 || true
  podman network rm -f "${PROJECT}_default" >/dev/null 2>&1 || true
  "${PODMAN[@]}" system reset --force >/dev/null 2>&1 || true
}
trap 'cleanup_compose; bench_cleanup' EXIT
# ms CMD...: the wall time of one command in ms (it must succeed)
ms() { local t0 t1; t0=$(date +%s%N); "$@" || { echo "Error: $* failed" >&2; exit 1; }; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
: >"$BENCH_TMP/times"
# one warm-up round each, then RUNS alternating rounds
sk up -d && sk down && pc up -d && pc down
for _ in $(seq 1 "$RUNS"); do
  echo "skiff-up $(ms sk up -d)" >>"$BENCH_TMP/times"
  echo "skiff-down $(ms sk down)" >>"$BENCH_TMP/times"
  echo "pc-up $(ms pc up -d)" >>"$BENCH_TMP/times"
  echo "pc-down $(ms pc down)" >>"$BENCH_TMP/times"
done
# compose config of 20 services
{
  echo "services:"
  for i in $(seq 1 20); do
    printf '  s%d:\n    image: %s\n    command: ["sleep", "1000"]\n    environment:\n      N: "%d"\n    ports: ["127.0.0.1::%d"]\n    volumes: [v%d:/data]\n' "$i" "$IMAGE" "$i" $((8000 + i)) "$i"
  done
  echo "volumes:"
  for i in $(seq 1 20); do echo "  v$i:"; done
} >"$BENCH_TMP/twenty.yaml"
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$BENCH_TMP/config.json" "$SKIFF compose -f $BENCH_TMP/twenty.yaml config -q" "$SKIFF compose -f $BENCH_TMP/twenty.yaml config" >&2
echo "== compose up -d / down of 3 services: skiff vs podman-compose $(podman-compose version 2>/dev/null | sed -n 's/^podman-composer* version *//p'), RUNS=$RUNS, medians (load $(cut -d' ' -f1 /proc/loadavg))"
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split(" "));
  const med = (k) => { const v = lines.filter((l) => l[0] === k).map((l) => Number(l[1])).sort((a, b) => a - b); const m = v.length >> 1; return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2; };
  for (const op of ["up", "down"]) {
    const s = med(`skiff-${op}`), p = med(`pc-${op}`);
    console.log(`compose ${op.padEnd(5)} skiff ${String(s).padStart(6)} ms  podman-compose ${String(p).padStart(6)} ms  ratio ${(s / p).toFixed(2)}`);
  }
' "$BENCH_TMP/times"
echo "== compose config of a 20-service file"
ratios "$BENCH_TMP/config.json"
