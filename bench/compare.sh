#!/usr/bin/env bash
# This checkout against another built checkout (BASE, default /work/main) in the same hyperfine run, on
# one store: `run --rm busybox true`, plain `ps` (bin/skiff answers it with skiff-shim ps), `ps --format`
# and `images` (node: the CLI's dispatch and parsing), `--help`-free start-up as users see it, and a
# two-step build uncached and cached (`--network none`: the same RUN network on both sides).
# Usage: BASE=/path/to/built/checkout bash bench/compare.sh   (both need `make build`)
source "$(dirname "$0")/common.sh"
BASE=${BASE:-/work/main}
[ -x "$BASE/bin/skiff" ] && [ -f "$BASE/dist/skiff.cjs" ] || { echo "Error: BASE=$BASE is not a built checkout (make build there)" >&2; exit 1; }
bench_registry
export SKIFF_ROOT="$BENCH_TMP/skiff-root" SKIFF_RUNROOT="$BENCH_TMP/skiff-run"
"$SKIFF" pull -q "$REGISTRY/busybox:latest" >/dev/null
"$SKIFF" create --name bench-c "$REGISTRY/busybox:latest" true >/dev/null
CTX="$BENCH_TMP/ctx"
mkdir -p "$CTX/payload"
for i in $(seq 1 50); do head -c 20000 /dev/urandom >"$CTX/payload/f$i"; done
printf 'FROM %s\nCOPY payload /payload\nRUN cat /payload/* | md5sum > /sum\n' "$REGISTRY/busybox:latest" >"$CTX/Dockerfile"
"$SKIFF" build -q --network none -t bench:1 "$CTX" >/dev/null
cmds=()
for args in "run --rm $REGISTRY/busybox:latest true" "ps -a" "ps -a --format {{.ID}}" "images" \
  "build -q --no-cache --network none -t bench:1 $CTX" "build -q --network none -t bench:1 $CTX"; do
  # the same store and image for both; each run of a command alternates with the other checkout's
  cmds+=("$SKIFF $args" "$BASE/bin/skiff $args")
done
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$BENCH_TMP/compare.json" "${cmds[@]}" >&2
echo "== this checkout ($REPO) vs BASE ($BASE): medians, ratio this/base (< 1: this is faster)"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
  for (let i = 0; i < r.length; i += 2) {
    const a = r[i].median * 1000, b = r[i + 1].median * 1000;
    console.log(`${r[i].command.replace(/^\S+\/bin\/skiff /, "skiff ").padEnd(60)} ${a.toFixed(1).padStart(7)} ms  base ${b.toFixed(1).padStart(7)} ms  ${(a / b).toFixed(2)}x`);
  }
' "$BENCH_TMP/compare.json"
