#!/usr/bin/env bash
# A fresh CI runner: on an empty store, the 3-stage build of bench/build.sh taken from a registry cache
# (--cache-from type=registry, written once by --cache-to mode=max) against pulling the final image
# alone (issue 17's goal: <= 1.5x). Each run starts from `system reset`. Then --progress=plain against
# -q on a fully cached build (the goal: no measurable difference).
source "$(dirname "$0")/common.sh"
bench_registry
export SKIFF_ROOT="$BENCH_TMP/skiff-root" SKIFF_RUNROOT="$BENCH_TMP/skiff-run"
CTX="$BENCH_TMP/ctx"
bench_three_stage_context "$CTX"
CACHE="$REGISTRY/bench/build-cache:1"
FINAL="$REGISTRY/bench/build-final:1"
"$SKIFF" build -q --network none -t "$FINAL" --cache-to "type=registry,ref=$CACHE,mode=max" "$CTX" >/dev/null
"$SKIFF" push -q "$FINAL" >/dev/null
RESET="$SKIFF system reset --force"
# the same image id from the cache as from the first build (a check, not a timing)
want=$("$SKIFF" image inspect --format '{{.Id}}' "$FINAL")
$RESET >/dev/null
got=$("$SKIFF" build -q --network none --cache-from "type=registry,ref=$CACHE" "$CTX")
[ "$got" = "$want" ] || { echo "Error: the build from the cache gave $got, not $want" >&2; exit 1; }
hyperfine -N --warmup 1 --runs "$RUNS" --prepare "$RESET" --export-json "$BENCH_TMP/cache.json" \
  "$SKIFF pull -q $FINAL" \
  "$SKIFF build -q --network none --cache-from type=registry,ref=$CACHE $CTX" >&2
echo "== empty store: pull of the final image vs the 3-stage build from a registry cache (goal: ratio <= 1.5)"
ratios "$BENCH_TMP/cache.json"
# hyperfine runs one command's runs, then the other's: on a shared machine whose load drifts, the two
# blocks see different loads. The same pair again, alternating (reset, pull, reset, build) each round.
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "Error: $* failed" >&2; exit 1; }; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
: >"$BENCH_TMP/alt.txt"
for _ in $(seq 1 "$RUNS"); do
  $RESET >/dev/null; p=$(ms "$SKIFF" pull -q "$FINAL")
  $RESET >/dev/null; b=$(ms "$SKIFF" build -q --network none --cache-from "type=registry,ref=$CACHE" "$CTX")
  echo "$p $b" >>"$BENCH_TMP/alt.txt"
done
echo "== the same, alternating each round ($RUNS rounds): medians and the median of each round's ratio"
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split(" ").map(Number));
  const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor((s.length - 1) / 2)]; };
  const p = med(rows.map((r) => r[0])), b = med(rows.map((r) => r[1]));
  console.log(`pull ${p} ms, build ${b} ms, ratio of medians ${(b / p).toFixed(2)}, median ratio ${med(rows.map((r) => r[1] / r[0])).toFixed(2)}`);
' "$BENCH_TMP/alt.txt"
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$BENCH_TMP/progress.json" \
  "$SKIFF build -q --network none $CTX" \
  "$SKIFF build --progress=plain --network none $CTX" >&2
echo "== fully cached build: -q vs --progress=plain (goal: ratio ~1.00)"
ratios "$BENCH_TMP/progress.json"
