#!/usr/bin/env bash
# registry.sh start DIR [--auth] | stop DIR
#
# Runs Debian's docker-registry (distribution 2.8, /usr/bin/docker-registry) on 127.0.0.1 at a free
# port, storage under DIR/data, deletes enabled. Writes DIR/config.yml, DIR/pid, DIR/log, DIR/addr.
# Waits until /v2/ answers (200, or 401 with --auth), then prints "127.0.0.1:PORT" on stdout.
# With --auth, htpasswd auth (bcrypt) is on for user "testuser", password "testpass".
# `stop DIR` ends the registry started in DIR (only that process: its pid is checked first).
# We never use the package's own systemd service (port 5000): each test run starts its own.
set -euo pipefail
usage() { echo "usage: registry.sh start|stop DIR [--auth]" >&2; exit 2; }
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || usage
auth=0
for a in "${@:3}"; do
  case "$a" in --auth) auth=1 ;; *) usage ;; esac
done
bin=${SKIFF_REGISTRY_BIN:-/usr/bin/docker-registry}

# Is PID (from DIR/pid) still our docker-registry? (a pid can be reused once the process is gone)
ours() { [ -n "${1:-}" ] && [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q "serve $dir/config.yml"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# HTTP status of GET /v2/ (0 when nothing answers)
status() {
  python3 - "$1" <<'EOP'
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(f"http://{sys.argv[1]}/v2/", timeout=2).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print(0)
EOP
}

stop() {
  local pid
  pid=$(cat "$dir/pid" 2>/dev/null || true)
  if ours "$pid"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do ours "$pid" || break; sleep 0.1; done
    ours "$pid" && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/pid" "$dir/addr"
}

case "$cmd" in
start)
  [ -x "$bin" ] || { echo "Error: $bin not found (apt-get install docker-registry)" >&2; exit 1; }
  mkdir -p "$dir/data"
  dir=$(cd "$dir" && pwd)
  stop # a stale registry from an earlier run in the same DIR
  if [ "$auth" = 1 ]; then
    htpasswd -Bbn testuser testpass >"$dir/htpasswd"
  fi
  # The port is picked by binding port 0 then released: another process may take it in between,
  # so retry with a new port when the registry does not come up.
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    {
      echo "version: 0.1"
      echo "log:"
      echo "  level: info"
      echo "  accesslog:"
      echo "    disabled: false"
      echo "storage:"
      echo "  filesystem:"
      echo "    rootdirectory: $dir/data"
      echo "  delete:"
      echo "    enabled: true"
      echo "  maintenance:"
      echo "    uploadpurging:"
      echo "      enabled: false"
      echo "http:"
      echo "  addr: 127.0.0.1:$port"
      echo "  secret: skiff-test-$port"
      if [ "$auth" = 1 ]; then
        echo "auth:"
        echo "  htpasswd:"
        echo "    realm: skiff-test"
        echo "    path: $dir/htpasswd"
      fi
    } >"$dir/config.yml"
    # own session and no inherited stdout: `$(registry.sh start ...)` must not wait for the registry
    setsid "$bin" serve "$dir/config.yml" </dev/null >>"$dir/log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/pid"
    for _ in $(seq 150); do
      kill -0 "$pid" 2>/dev/null || break
      code=$(status "127.0.0.1:$port")
      if [ "$code" = 200 ] || [ "$code" = 401 ]; then
        echo "127.0.0.1:$port" >"$dir/addr"
        echo "127.0.0.1:$port"
        exit 0
      fi
      sleep 0.1
    done
    echo "registry.sh: attempt $attempt on port $port failed (see $dir/log)" >&2
    stop
  done
  echo "Error: docker-registry did not start (see $dir/log)" >&2
  exit 1
  ;;
stop)
  [ -d "$dir" ] || exit 0
  dir=$(cd "$dir" && pwd)
  stop
  ;;
*) usage ;;
esac
