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
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$BENCH_TMP/progress.json" \
  "$SKIFF build -q --network none $CTX" \
  "$SKIFF build --progress=plain --network none $CTX" >&2
echo "== fully cached build: -q vs --progress=plain (goal: ratio ~1.00)"
ratios "$BENCH_TMP/progress.json"
