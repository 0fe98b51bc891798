#!/usr/bin/env bash
# The single executable (dist/skiff, `make dist`) against the checkout's launcher (bin/skiff), side by
# side on the same store: `--version`, `run --rm busybox true`, a command through node's dispatch (`images`) and the
# native `ps`; with `node -e 0` and `crun run` of the same busybox bundle as floors. Prints the
# executable's size against node's, medians and the issue's goal ratios. SEA_OTHER=FILE adds another
# build of the executable (an older one, or another form) to the same rounds: `--version` and `run`;
# BIN_OTHER=FILE the same for another checkout's launcher (bin/skiff of a copy of main, say).
# PAUSE_MS=500 waits that long before every run (each run alone: no run meets the previous one's
# detached teardown or its CPU; how the goal ratio against crun is measured).
# No command gets NODE_EXTRA_CA_CERTS but one (below). Runs are interleaved (one run of each command in turn, RUNS rounds): on a shared, loaded machine a
# block of runs per command (hyperfine) measures the load as much as the command.
source "$(dirname "$0")/common.sh"
SEA="$REPO/dist/skiff"
SKIFF="$REPO/bin/skiff" # the checkout's launcher, whatever SKIFF_BIN says: the two are compared
[ -x "$SEA" ] || { echo "bench/sea.sh: $SEA is missing: run 'make dist'" >&2; exit 1; }
bench_registry
export SKIFF_ROOT="$BENCH_TMP/skiff-root" SKIFF_RUNROOT="$BENCH_TMP/skiff-run"
IMG="$REGISTRY/busybox:latest"
"$SKIFF" pull -q "$IMG" >/dev/null
# crun needs an unpacked bundle: busybox's rootfs (podman export) and crun's default spec running `true`
BUNDLE="$BENCH_TMP/crun-bundle"
mkdir -p "$BUNDLE/rootfs"
podman pull -q --tls-verify=false "$IMG" >/dev/null
PCID=$(podman create "$IMG" true)
podman export "$PCID" | tar -C "$BUNDLE/rootfs" -xf -
podman rm "$PCID" >/dev/null
(cd "$BUNDLE" && crun spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"true"/' config.json)
# one run of each first: the native parts are written, the user's code caches trained (run/pull)
# (SEA_OTHER and BIN_OTHER keep their code caches in a home of their own: an older launcher that trains
# removes the caches of other bundles, so two builds sharing one would each train again on every run)
OTHER_CACHE="$BENCH_TMP/cache-other"
for b in "$SEA" "$SKIFF" ${SEA_OTHER:+"$SEA_OTHER"} ${BIN_OTHER:+"$BIN_OTHER"}; do
  for _ in 1 2; do XDG_CACHE_HOME=$([ "$b" = "${SEA_OTHER:-}" ] || [ "$b" = "${BIN_OTHER:-}" ] && echo "$OTHER_CACHE" || echo "$XDG_CACHE_HOME") "$b" run --rm "$IMG" true >/dev/null; done
done

node - "$RUNS" "$SEA" "$SKIFF" "$IMG" "$BUNDLE" "${SEA_OTHER:-}" "$OTHER_CACHE" "${BIN_OTHER:-}" <<'EOF'
const { spawnSync } = require('child_process');
const fs = require('fs');
const [runs, sea, bin, img, bundle, other, otherCache, binOther] = process.argv.slice(2);
// every `run` comes right after a `--version` (~25 ms): a run right after another one waits for the
// networks lock, which that run's network teardown (the shim's, detached) holds for ~20-40 ms; until
// 2026-12-07 bin/skiff's run followed dist/skiff's directly and was measured ~25 ms slower for it
const cmds = {
  'node -e 0': ['node', '-e', '0'],
  'dist/skiff --version': [sea, '--version'],
  'dist/skiff run --rm busybox true': [sea, 'run', '--rm', img, 'true'],
  'bin/skiff --version': [bin, '--version'],
  'bin/skiff run --rm busybox true': [bin, 'run', '--rm', img, 'true'],
  'crun run (same bundle)': ['crun', 'run', '--bundle', bundle, `bench-sea-${process.pid}`],
  'dist/skiff images': [sea, 'images'],
  'bin/skiff images': [bin, 'images'],
  'dist/skiff ps -a (native)': [sea, 'ps', '-a'],
  'bin/skiff ps -a (native)': [bin, 'ps', '-a'],
};
// node parses NODE_EXTRA_CA_CERTS's file before any JavaScript runs; bin/skiff (sh) starts node
// without it, the single executable cannot: all runs go without it (as on a Debian machine, which does
// not set it), and when it is set here, one command shows what it costs the single executable
if (other) Object.assign(cmds, { 'SEA_OTHER --version': [other, '--version'], 'SEA_OTHER run --rm busybox true': [other, 'run', '--rm', img, 'true'] });
if (binOther) Object.assign(cmds, { 'BIN_OTHER --version': [binOther, '--version'], 'BIN_OTHER run --rm busybox true': [binOther, 'run', '--rm', img, 'true'] });
const envOf = (k) => (k.startsWith('SEA_OTHER') || k.startsWith('BIN_OTHER') ? { ...process.env, XDG_CACHE_HOME: otherCache } : process.env);
const extraCa = process.env.BENCH_EXTRA_CA_CERTS; // what NODE_EXTRA_CA_CERTS was (bench/common.sh unsets it)
if (extraCa) cmds['dist/skiff --version, NODE_EXTRA_CA_CERTS'] = ['env', `NODE_EXTRA_CA_CERTS=${extraCa}`, sea, '--version'];
const times = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
const cpu = Object.fromEntries(Object.keys(cmds).map((k) => [k, 0]));
// CPU time of the waited-for children (user + system, clock ticks): less at the mercy of the load than wall time
const ticks = () => { const f = fs.readFileSync('/proc/self/stat', 'latin1').split(') ')[1].split(' '); return Number(f[13]) + Number(f[14]); };
const pause = Number(process.env.PAUSE_MS || 0);
const idle = new Int32Array(new SharedArrayBuffer(4));
for (let i = 0; i < Number(runs); i++) {
  for (const [k, [c, ...a]] of Object.entries(cmds)) {
    if (pause) Atomics.wait(idle, 0, 0, pause);
    const c0 = ticks();
    const t = process.hrtime.bigint();
    const r = spawnSync(c, a, { stdio: ['ignore', 'ignore', 'pipe'], env: envOf(k) });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) { console.error(`${k}: exit ${r.status}: ${r.stderr}`); process.exit(1); }
    times[k].push(ms);
    cpu[k] += ticks() - c0;
  }
}
const med = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, med(v)]));
const hz = 100; // USER_HZ on Linux
console.log(`== ${runs} interleaved rounds${pause ? `, ${pause} ms pause before each run` : ''}: wall median, CPU (user + system) mean; ms`);
for (const [k, v] of Object.entries(m)) console.log(`${k.padEnd(44)} ${v.toFixed(1).padStart(8)} ${((cpu[k] * 1000) / hz / Number(runs)).toFixed(1).padStart(8)}`);
const mb = (n) => (n / 1048576).toFixed(1);
const size = fs.statSync(sea).size, node = fs.statSync(fs.realpathSync(process.execPath)).size;
const r = (a, b) => (m[a] / m[b]).toFixed(2);
// CPU time as well where crun is the base: on a loaded machine crun's wall time is mostly waiting
const rc = (a, b) => `${r(a, b)}  (CPU ${(cpu[a] / cpu[b]).toFixed(2)})`;
console.log('== ratios');
console.log(`dist/skiff run / bin/skiff run:            ${r('dist/skiff run --rm busybox true', 'bin/skiff run --rm busybox true')}  (goal <= 1)`);
console.log(`dist/skiff run / crun run:                 ${rc('dist/skiff run --rm busybox true', 'crun run (same bundle)')}  (goal <= 2.5)`);
console.log(`bin/skiff run / crun run:                  ${rc('bin/skiff run --rm busybox true', 'crun run (same bundle)')}`);
console.log(`node -e 0 / crun run:                      ${rc('node -e 0', 'crun run (same bundle)')}  (the floor: node's own start)`);
console.log(`dist/skiff --version / node -e 0:          ${r('dist/skiff --version', 'node -e 0')}  (goal <= 1)`);
console.log(`dist/skiff images / bin/skiff images:      ${r('dist/skiff images', 'bin/skiff images')}`);
console.log(`dist/skiff ps -a / bin/skiff ps -a:        ${r('dist/skiff ps -a (native)', 'bin/skiff ps -a (native)')}`);
if (binOther) console.log(`bin/skiff run / BIN_OTHER run:              ${r('bin/skiff run --rm busybox true', 'BIN_OTHER run --rm busybox true')}`);
if (other) console.log(`dist/skiff run / SEA_OTHER run:            ${r('dist/skiff run --rm busybox true', 'SEA_OTHER run --rm busybox true')}\ndist/skiff --version / SEA_OTHER --version: ${r('dist/skiff --version', 'SEA_OTHER --version')}\nsize: SEA_OTHER ${mb(fs.statSync(other).size)} MB`);
console.log(`size: dist/skiff ${mb(size)} MB, node ${mb(node)} MB: ${size - node >= 0 ? '+' : ''}${mb(size - node)} MB  (goal < +15 MB)`);
EOF
