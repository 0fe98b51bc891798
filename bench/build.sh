#!/usr/bin/env bash
# skiff build vs podman build of a 3-stage Dockerfile (two independent stages, a final one copying
# from both), uncached (--no-cache) and fully cached, side by side. Base images are pulled first;
# podman gets the --ulimit values it needs to RUN here, and --network=none like skiff's default.
source "$(dirname "$0")/common.sh"
bench_registry
export SKIFF_ROOT="$BENCH_TMP/skiff-root" SKIFF_RUNROOT="$BENCH_TMP/skiff-run"
CTX="$BENCH_TMP/ctx"
bench_three_stage_context "$CTX"
PODMAN_ROOT="$BENCH_TMP/podman-root"
podman_build=(podman --root "$PODMAN_ROOT" build -q --tls-verify=false --network=none --ulimit nproc=1024:1024 --ulimit nofile=1024:1024)
"$SKIFF" pull -q "$REGISTRY/busybox:latest" >/dev/null
podman --root "$PODMAN_ROOT" pull -q --tls-verify=false "$REGISTRY/busybox:latest" >/dev/null
"$SKIFF" build -q -t bench:1 "$CTX" >/dev/null
"${podman_build[@]}" -t bench:1 "$CTX" >/dev/null
hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$BENCH_TMP/uncached.json" \
  "$SKIFF build -q --no-cache -t bench:1 $CTX" "${podman_build[*]} --no-cache -t bench:1 $CTX" >&2
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$BENCH_TMP/cached.json" \
  "$SKIFF build -q -t bench:1 $CTX" "${podman_build[*]} -t bench:1 $CTX" >&2
echo "== build, 3 stages, uncached (ratio to skiff; > 1 means podman is slower)"
ratios "$BENCH_TMP/uncached.json"
echo "== build, 3 stages, fully cached (goal: skiff median <= 150 ms)"
ratios "$BENCH_TMP/cached.json"

# Instruction count: 1000, 2000 and 10 000 LABEL lines FROM scratch (a build must stay linear in
# its instructions: issue 12 measured 2.7 s, 8 s and 287 s before the build state was kept in place).
# Uncached (--no-cache) and fully cached; skiff only (podman is not the point here).
for n in 1000 2000 10000; do
  LCTX="$BENCH_TMP/labels-$n"
  mkdir -p "$LCTX"
  { echo "FROM scratch"; for i in $(seq 1 "$n"); do echo "LABEL l$i=v$i"; done; } >"$LCTX/Dockerfile"
  "$SKIFF" build -q -t "labels:$n" "$LCTX" >/dev/null
done
hyperfine -N --warmup 1 --runs "${LABEL_RUNS:-3}" --export-json "$BENCH_TMP/labels-uncached.json" \
  "$SKIFF build -q --no-cache -t labels:1000 $BENCH_TMP/labels-1000" \
  "$SKIFF build -q --no-cache -t labels:2000 $BENCH_TMP/labels-2000" \
  "$SKIFF build -q --no-cache -t labels:10000 $BENCH_TMP/labels-10000" >&2
hyperfine -N --warmup 1 --runs "${LABEL_RUNS:-3}" --export-json "$BENCH_TMP/labels-cached.json" \
  "$SKIFF build -q -t labels:1000 $BENCH_TMP/labels-1000" \
  "$SKIFF build -q -t labels:2000 $BENCH_TMP/labels-2000" \
  "$SKIFF build -q -t labels:10000 $BENCH_TMP/labels-10000" >&2
echo "== build, 1000 / 2000 / 10000 LABEL lines, uncached (ratio to 1000 lines; linear: 2 and 10)"
ratios "$BENCH_TMP/labels-uncached.json"
echo "== build, 1000 / 2000 / 10000 LABEL lines, fully cached (ratio to 1000 lines; linear: 2 and 10)"
ratios "$BENCH_TMP/labels-cached.json"
