#!/usr/bin/env bash
# The README's demo, with no registry at all: build a tiny image FROM scratch with Debian's static
# busybox (busybox-static), look at it, run it, and rebuild it from the cache. Leaves nothing behind.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d /tmp/skiff-demo.XXXXXX)
trap 'SKIFF_ROOT="$TMP/store" SKIFF_RUNROOT="$TMP/run" "$REPO/bin/skiff" system reset --force >/dev/null 2>&1 || true; rm -rf "$TMP"' EXIT
[ -x /bin/busybox ] || { echo "demo: /bin/busybox is missing: apt-get install busybox-static (scripts/setup-debian.sh does)" >&2; exit 1; }
mkdir "$TMP/ctx"
cp /bin/busybox "$TMP/ctx/busybox"
cat >"$TMP/ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
WORKDIR /srv
ENV GREETING=hello
CMD ["sh", "-c", "echo \"$GREETING from $(hostname), pid $$, $(id)\""]
DOCKERFILE
export SKIFF_ROOT="$TMP/store" SKIFF_RUNROOT="$TMP/run"
set -x
"$REPO/bin/skiff" build -t tiny:1 "$TMP/ctx"
"$REPO/bin/skiff" images
"$REPO/bin/skiff" history tiny:1
"$REPO/bin/skiff" run --rm tiny:1
"$REPO/bin/skiff" build -t tiny:1 "$TMP/ctx"   # again: every step from the cache, the same image id
{ set +x; } 2>/dev/null
