# Shared setup for the benchmarks: a local registry with the fixture images, and a ratio printer.
# Benchmarks are not tests: they print medians and ratios, they never fail on a timing.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# the CLI under test: SKIFF_BIN (as for the test suite; e.g. dist/skiff, the shipped executable), else
# the checkout's bin/skiff
SKIFF=$(readlink -f "${SKIFF_BIN:-$REPO/bin/skiff}")
if [ -z "${BENCH_TMP:-}" ]; then
  BENCH_TMP=$(mktemp -d "${BENCH_PARENT:-/tmp}/skiff-bench.XXXXXX")
  BENCH_OWN_TMP=1
fi
RUNS=${RUNS:-10}
# skiff's code cache (bin/skiff.cjs) as this run trains it: the user's own ~/.cache/skiff is shared by
# every checkout on the machine, and a launcher keeps only three other bundles' caches beside its own,
# so on a shared machine the runs could measure untrained starts (a user's second run is trained)
export XDG_CACHE_HOME="$BENCH_TMP/cache"
# node parses NODE_EXTRA_CA_CERTS's file at every start, before any JavaScript (~50 ms); bin/skiff hands
# it over to skiff instead, the single executable (SKIFF_BIN=dist/skiff) cannot: the benches run
# without it, as a Debian machine does (bench/sea.sh shows what it costs dist/skiff)
export BENCH_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS-}
unset NODE_EXTRA_CA_CERTS

# On exit: stop the registry (if started) and remove what the run made (BENCH_KEEP=1 keeps it).
bench_cleanup() {
  if [ -n "${REG_DIR:-}" ]; then bash "$REPO/scripts/registry.sh" stop "$REG_DIR" >/dev/null 2>&1 || true; fi
  if [ -n "${BENCH_OWN_TMP:-}" ] && [ "${BENCH_KEEP:-}" != 1 ]; then
    SKIFF_ROOT="$BENCH_TMP/skiff-root" SKIFF_RUNROOT="$BENCH_TMP/skiff-run" "$SKIFF" system reset --force >/dev/null 2>&1 || true
    rm -rf "$BENCH_TMP" 2>/dev/null || true
  fi
}
trap bench_cleanup EXIT

bench_registry() {
  REG_DIR="$BENCH_TMP/registry"
  mkdir -p "$REG_DIR"
  REGISTRY=$(bash "$REPO/scripts/registry.sh" start "$REG_DIR")
  FIXTURES_DIR=${FIXTURES_DIR:-/var/tmp/skiff-fixtures}
  bash "$REPO/scripts/make-fixtures.sh" "$REGISTRY" "$FIXTURES_DIR" >&2
}

# ratios FILE NAME...: hyperfine JSON → median per command and ratio to the first command
ratios() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
    const base = r[0].median;
    for (const x of r) console.log(`${x.command.padEnd(70).slice(0,70)}  median ${(x.median*1000).toFixed(1).padStart(8)} ms  ratio ${(x.median/base).toFixed(2)}`);
  ' "$1"
}

# The stores of a side-by-side run: skiff's and podman's under BENCH_TMP (PODMAN: the podman command
# with them), and IMAGE, the busybox fixture of the registry bench_registry started.
bench_stores() {
  export SKIFF_ROOT="$BENCH_TMP/skiff-root" SKIFF_RUNROOT="$BENCH_TMP/skiff-run"
  PODMAN=(podman --root "$BENCH_TMP/podman-root" --runroot "$BENCH_TMP/podman-run")
  IMAGE="$REGISTRY/busybox:latest"
}

# bench_three_stage_context DIR: the 3-stage build of bench/build.sh and bench/build-cache.sh (two
# independent stages, 100 files of payload, a final stage copying from both), on the fixture busybox.
bench_three_stage_context() {
  mkdir -p "$1/payload"
  for i in $(seq 1 100); do head -c 20000 /dev/urandom >"$1/payload/f$i"; done
  cat >"$1/Dockerfile" <<DOCKERFILE
FROM $REGISTRY/busybox:latest AS numbers
RUN for i in \$(seq 1 200); do echo \$i > /n-\$i; done && cat /n-* | md5sum > /numbers.sum
FROM $REGISTRY/busybox:latest AS data
COPY payload /payload
RUN cat /payload/* | md5sum > /data.sum
FROM $REGISTRY/busybox:latest
COPY --from=numbers /numbers.sum /out/
COPY --from=data /data.sum /out/
ENV RESULT=/out
CMD ["sh", "-c", "cat /out/*"]
DOCKERFILE
}
