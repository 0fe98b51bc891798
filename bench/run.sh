#!/usr/bin/env bash
# skiff run --rm busybox true  vs  podman run, crun run, and node -e 0 (the floor), side by side,
# then where skiff's time goes (SKIFF_TRACE_STARTUP phase marks, medians). The headline compares
# default networks (skiff's bridge or pasta, podman's netavark or pasta); both also with --network none.
# podman gets explicit --ulimit values: with its defaults crun fails here (setrlimit RLIMIT_NPROC: EPERM).
# When NODE_EXTRA_CA_CERTS is set, node parses that bundle at every start (bin/skiff starts node
# without it): `node -e 0` is then measured both ways.
source "$(dirname "$0")/common.sh"
bench_registry
export SKIFF_ROOT="$BENCH_TMP/skiff-root" SKIFF_RUNROOT="$BENCH_TMP/skiff-run"
"$SKIFF" pull -q "$REGISTRY/busybox:latest" >/dev/null
podman pull -q --tls-verify=false "$REGISTRY/busybox:latest" >/dev/null
# crun needs an unpacked bundle: use skiff's own spec for the same image, minus the skiff extension.
BUNDLE="$BENCH_TMP/crun-bundle"
mkdir -p "$BUNDLE/rootfs"
PCID=$(podman create "$REGISTRY/busybox:latest" true)
podman export "$PCID" | tar -C "$BUNDLE/rootfs" -xf -
podman rm "$PCID" >/dev/null
(cd "$BUNDLE" && crun spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"true"/' config.json)
# the shim alone, on a created container's bundle (what `run` execs into)
CID=$("$SKIFF" create "$REGISTRY/busybox:latest" true)
SHIM="$REPO/dist/skiff-shim run $SKIFF_ROOT/containers/$CID/bundle"
cmds=("$SKIFF run --rm $REGISTRY/busybox:latest true" "$SKIFF run --rm --network none $REGISTRY/busybox:latest true")
# a peer that cannot run here is left out and named, never silently
PODMAN="podman run --rm --ulimit nproc=1024:1024 --ulimit nofile=1024:1024"
for c in "$PODMAN $REGISTRY/busybox:latest true" "$PODMAN --network=none $REGISTRY/busybox:latest true" "crun run --bundle $BUNDLE bench-$$"; do
  if $c >/dev/null 2>"$BENCH_TMP/peer.err"; then cmds+=("$c"); else echo "skipped (fails here): $c: $(tail -1 "$BENCH_TMP/peer.err")" >&2; fi
done
cmds+=("node -e 0")
[ -n "${NODE_EXTRA_CA_CERTS-}" ] && cmds+=("env -u NODE_EXTRA_CA_CERTS node -e 0")
cmds+=("$SHIM")
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$BENCH_TMP/run.json" "${cmds[@]}" >&2
echo "== skiff run --rm vs peers (ratio to skiff; < 1 means faster than skiff)"
ratios "$BENCH_TMP/run.json"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
  const m = (re) => r.find((x) => re.test(x.command))?.median * 1000;
  const skiff = r[0].median * 1000, skiffNone = r[1].median * 1000, node = m(/^node -e 0$/), bare = m(/^env -u NODE_EXTRA_CA_CERTS node/);
  const podman = m(/^podman (?!.*--network=none)/), podmanNone = m(/^podman .*--network=none/);
  if (podman) console.log(`goal skiff <= 0.5 x podman (default networks): ${(skiff / podman).toFixed(2)} x`);
  if (podmanNone) console.log(`     skiff --network none / podman --network=none: ${(skiffNone / podmanNone).toFixed(2)} x`);
  console.log(`goal skiff default network - skiff --network none <= 25 ms: ${(skiff - skiffNone).toFixed(1)} ms`);
  console.log(`goal skiff - (node -e 0) <= 20 ms:  ${(skiff - node).toFixed(1)} ms`);
  if (bare) console.log(`     skiff - (node -e 0, without NODE_EXTRA_CA_CERTS): ${(skiff - bare).toFixed(1)} ms`);
' "$BENCH_TMP/run.json"
# Breakdown: phase marks (ms since node started) of traced runs, medians; wall time around each run.
echo "== where skiff run's time goes (medians of $RUNS traced runs; ms)"
for _ in $(seq "$RUNS"); do
  s=$(date +%s%N)
  marks=$(SKIFF_TRACE_STARTUP=1 $SKIFF run --rm "$REGISTRY/busybox:latest" true 2>&1 >/dev/null | grep '^skiff-trace' | tr '\n' ' ')
  e=$(date +%s%N)
  echo "$marks wall $(( (e - s) / 1000 ))"
done >"$BENCH_TMP/trace.txt"
node -e '
  const fs = require("fs");
  const runs = fs.readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => {
    const t = {}; const w = l.split(/\s+/);
    for (let i = 0; i < w.length; i++) if (w[i] === "skiff-trace") t[w[i + 1]] = Number(w[i + 2]);
    // the shim network phases (durations): "skiff-trace-net PHASE MS ..."
    const n = w.indexOf("skiff-trace-net");
    t.shimnet = 0;
    if (n >= 0) for (let i = n + 1; i + 1 < w.length && !w[i].startsWith("skiff-trace") && w[i] !== "wall"; i += 2) t.shimnet += Number(w[i + 1]);
    // the shim start phases (ms since its main() when each ended): "skiff-trace-shim PHASE MS ..."
    const s = w.indexOf("skiff-trace-shim");
    if (s >= 0) for (let i = s + 1; i + 1 < w.length && !w[i].startsWith("skiff-trace") && w[i] !== "wall"; i += 2) t["shim-" + w[i]] = Number(w[i + 1]);
    t.wall = Number(w[w.length - 1]) / 1000; return t;
  });
  const med = (f) => { const v = runs.map(f).sort((a, b) => a - b); return v[Math.floor(v.length / 2)]; };
  const shim = JSON.parse(fs.readFileSync(process.argv[2], "utf8")).results.at(-1).median * 1000;
  const rows = [
    ["node start (process start to bin/skiff.cjs)", med((t) => t.node)],
    ["module load (bundle from code cache, run path modules)", med((t) => t.loaded - t.node)],
    ["create (image, spec, container dir)", med((t) => t.created - t.loaded)],
    ["start state (state.json), exec of the shim", med((t) => t.exec - t.created)],
    ["  of which state.json, backend load, sweep (created -> net-sweep)", med((t) => t["net-sweep"] - t.created)],
    ["  of which prepare, hosts, resolv.conf, spec (net-sweep -> net)", med((t) => t.net - t["net-sweep"])],
    ["shim + container + sh launcher (wall - exec mark)", med((t) => t.wall - t.exec)],
    ["  of which the shim network setup (skiff-trace-net phases, summed)", med((t) => t.shimnet)],
    ["  of which the shim until the container execs (trace-shim exec)", med((t) => t["shim-exec"])],
    ["    of which spec loaded -> child cloned (cgroup dirs made first)", med((t) => t["shim-cloned"] - t["shim-loaded"])],
    ["    of which cloned -> child in its cgroups", med((t) => t["shim-cgroups"] - t["shim-cloned"])],
    ["    of which cloned -> rootfs of the child prepared (in parallel)", med((t) => t["shim-mounted"] - t["shim-cloned"])],
    ["    of which GO -> exec (cgroup mounts, pivot_root, masks, exec)", med((t) => t["shim-exec"] - t["shim-go"])],
    ["  of which the shim alone (hyperfine above)", shim],
    ["total (wall)", med((t) => t.wall)],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(66)} ${v.toFixed(1).padStart(7)}`);
' "$BENCH_TMP/trace.txt" "$BENCH_TMP/run.json"
"$SKIFF" rm "$CID" >/dev/null
