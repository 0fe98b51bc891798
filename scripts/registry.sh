#!/usr/bin/env bash
# registry.sh start DIR [--auth] | stop DIR
# Runs Debian's docker-registry (distribution 2.8) on 127.0.0.1 at a free port; prints HOST:PORT.
# With --auth, htpasswd auth is on with user "testuser" / password "testpass".
set -euo pipefail
cmd=${1:?usage: registry.sh start|stop DIR [--auth]}
dir=${2:?usage: registry.sh start|stop DIR [--auth]}
case "$cmd" in
start)
  mkdir -p "$dir/data"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  auth=""
  if [ "${3:-}" = "--auth" ]; then
    htpasswd -Bbn testuser testpass > "$dir/htpasswd"
    auth=$(printf 'auth:\n  htpasswd:\n    realm: skiff-test\n    path: %s\n' "$dir/htpasswd")
  fi
  cat > "$dir/config.yml" <<EOC
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
$auth
EOC
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  echo $! > "$dir/pid"
  for _ in $(seq 100); do
    code=$(python3 - "$port" <<'EOP'
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v2/", timeout=1).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print(0)
EOP
)
    if [ "$code" = 200 ] || [ "$code" = 401 ]; then echo "127.0.0.1:$port"; exit 0; fi
    sleep 0.1
  done
  echo "Error: docker-registry did not start (see $dir/log)" >&2; exit 1 ;;
stop)
  [ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null || true
  rm -f "$dir/pid" ;;
*) echo "usage: registry.sh start|stop DIR [--auth]" >&2; exit 2 ;;
esac
