#!/usr/bin/env bash
# skiff pull vs podman pull (its default overlay driver, same registry) of the Debian, 8-layer and
# multi-layer fixtures; both stores are empty before each run.
# The runs alternate (skiff, podman, podman, skiff, ...), rather than all of one then all of the
# other as hyperfine does: each run leaves thousands of new inodes in the bench dir's block group,
# and on this machine's journal-less ext4 inode creation gets slower as that group fills, so
# whoever ran second paid more per file (up to 10x in /tmp here, where test suites churn).
# The stores are moved aside between runs, not deleted: the inode allocator steps over every inode
# freed in the last seconds, so creating files right after an `rm -rf` of a store costs 10-40x
# more and the bench would measure the deletion's aftermath. The moved stores go at the end.
# Each run also starts with no dirty pages (`sync` before, not timed): otherwise a run pays for the
# writeback of the run before it (~350 MB for Debian).
# The stores go under /var/tmp (BENCH_PARENT), not /tmp, where the test suites' stores come and go:
# on this machine (ext4 without a journal) creating a file in a directory whose block group saw
# many deletions in the last minutes costs 80-270 us instead of 10-20 us, which adds ~30-70 ms of
# symlink and file creation to both tools' multi-layer pull. The bench prints that cost first; when
# it is high, wait or pick another BENCH_PARENT.
BENCH_PARENT=${BENCH_PARENT:-/var/tmp}
source "$(dirname "$0")/common.sh"
bench_registry
export SKIFF_ROOT="$BENCH_TMP/skiff-root" SKIFF_RUNROOT="$BENCH_TMP/skiff-run"
PODMAN_ROOT="$BENCH_TMP/podman-root"
TRASH="$BENCH_TMP/trash"
mkdir -p "$TRASH"
fresh() {
  local d
  for d in "$SKIFF_ROOT" "$PODMAN_ROOT"; do [ ! -e "$d" ] || mv "$d" "$TRASH/$(date +%s%N)"; done
  sync
}
# timed NAME CMD...: run once on fresh stores, append the wall time (ms) to $BENCH_TMP/NAME.times
timed() {
  local name=$1 s e
  shift
  fresh
  s=$(date +%s%N)
  "$@" >/dev/null || { echo "bench: $name failed" >&2; exit 1; }
  e=$(date +%s%N)
  echo $(((e - s) / 1000)) >>"$BENCH_TMP/$name.times"
}
echo "bench: podman storage driver: $(podman --root "$PODMAN_ROOT" info --format '{{.Store.GraphDriverName}}')" >&2
node -e '
  const fs = require("fs"), d = process.argv[1];
  fs.mkdirSync(d);
  const t = process.hrtime.bigint();
  for (let i = 0; i < 300; i++) fs.symlinkSync("busybox", `${d}/l${i}`);
  const us = Number(process.hrtime.bigint() - t) / 300e3;
  console.log(`bench: creating a file under ${process.argv[2]} costs ${us.toFixed(0)} us${us > 50 ? " (slow: recent mass deletions in its block group; results will be inflated for both tools)" : ""}`);
' "$TRASH/inode-probe" "$BENCH_PARENT"
runs=${PULL_RUNS:-6}
# the small image first: the big ones leave ~100k moved-aside inodes in the group, which slows later creation
for img in ${PULL_IMAGES:-multilayer:latest bench-layers:latest debian:bookworm}; do
  rm -f "$BENCH_TMP"/skiff.times "$BENCH_TMP"/podman.times
  for ((i = 0; i < runs; i++)); do
    if ((i % 2 == 0)); then
      timed skiff "$SKIFF" pull -q "$REGISTRY/$img"
      timed podman podman --root "$PODMAN_ROOT" pull -q --tls-verify=false "$REGISTRY/$img"
    else
      timed podman podman --root "$PODMAN_ROOT" pull -q --tls-verify=false "$REGISTRY/$img"
      timed skiff "$SKIFF" pull -q "$REGISTRY/$img"
    fi
  done
  echo "== pull $img ($runs runs each, alternating; ratio to skiff; > 1 means podman is slower; issue 2's goals: debian >= 1, multilayer >= 2)"
  node -e '
    const fs = require("fs");
    const med = (f) => { const v = fs.readFileSync(f, "utf8").trim().split("\n").map(Number).sort((a, b) => a - b); const m = v.length >> 1; return (v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2) / 1000; };
    const s = med(process.argv[1]), p = med(process.argv[2]);
    console.log(`skiff pull   median ${s.toFixed(1).padStart(8)} ms  ratio 1.00`);
    console.log(`podman pull  median ${p.toFixed(1).padStart(8)} ms  ratio ${(p / s).toFixed(2)}`);
  ' "$BENCH_TMP/skiff.times" "$BENCH_TMP/podman.times"
done
rm -rf "$TRASH" "$SKIFF_ROOT" "$PODMAN_ROOT"
