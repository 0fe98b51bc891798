#!/usr/bin/env bash
# `system df` with 20 images and 50 containers, skiff and podman side by side (hyperfine medians,
# ratio; goal: skiff <= 0.5x podman). The 20 images are distinct (a file committed on the fixture
# busybox each); the 50 containers are created, not started. Everything is removed on exit.
# Env: IMAGES (default 20), CONTAINERS (default 50), RUNS.
source "$(dirname "$0")/common.sh"
IMAGES=${IMAGES:-20}
CONTAINERS=${CONTAINERS:-50}
bench_registry
bench_stores

cleanup() {
  "${PODMAN[@]}" rm -f -t 0 -a >/dev/null 2>&1 || true
  "${PODMAN[@]}" system reset -f >/dev/null 2>&1 || true
  "$SKIFF" system reset --force >/dev/null 2>&1 || true
  # containers/storage bind-mounts its overlay dir onto itself; reset leaves that mount behind
  awk -v t="$BENCH_TMP" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r | xargs -r -n1 umount 2>/dev/null || true
  bench_cleanup
}
trap cleanup EXIT

"$SKIFF" pull -q "$IMAGE" >/dev/null
"${PODMAN[@]}" pull -q --tls-verify=false "$IMAGE" >/dev/null
for i in $(seq 1 "$IMAGES"); do
  "$SKIFF" run --name "df-img-$i" "$IMAGE" sh -c "echo $i > /i" >/dev/null
  "$SKIFF" commit "df-img-$i" "df-bench:$i" >/dev/null
  "$SKIFF" rm "df-img-$i" >/dev/null
  "${PODMAN[@]}" run --name "df-img-$i" --network=none --ulimit nproc=1024:1024 --ulimit nofile=1024:1024 "$IMAGE" sh -c "echo $i > /i" >/dev/null
  "${PODMAN[@]}" commit -q "df-img-$i" "df-bench:$i" >/dev/null
  "${PODMAN[@]}" rm "df-img-$i" >/dev/null
done
for i in $(seq 1 "$CONTAINERS"); do
  "$SKIFF" create --name "df-c-$i" "df-bench:$(( (i - 1) % IMAGES + 1 ))" true >/dev/null
  "${PODMAN[@]}" create --name "df-c-$i" --network=none "df-bench:$(( (i - 1) % IMAGES + 1 ))" true >/dev/null
done
echo "== $("$SKIFF" images -q | wc -l) images, $("$SKIFF" ps -aq | wc -l) containers in each store"

hyperfine -N --warmup 2 --runs "${RUNS}" --export-json "$BENCH_TMP/df.json" "$SKIFF system df" "${PODMAN[*]} system df" >&2
echo "== system df (ratio to skiff; > 1 means slower than skiff)"
ratios "$BENCH_TMP/df.json"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
  const x = r[0].median / r[1].median;
  console.log(`skiff system df / podman system df = ${x.toFixed(2)}x (goal <= 0.50x: ${x <= 0.5 ? "met" : "missed"})`);
' "$BENCH_TMP/df.json"
