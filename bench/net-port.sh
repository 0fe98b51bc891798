#!/usr/bin/env bash
# `run -d -p 127.0.0.1:PORT:80` of busybox httpd until the host's first successful fetch of a page
# from that port, skiff against podman, side by side in one run (as root: rootful, then, when the
# user RUSER (default skiffci) exists, the same as that user: rootless, skiff's pasta against podman's
# rootless network). Each round starts one container per tool, alternating, each on a free loopback
# port, then `rm -f` (not timed). One node process drives every round: the poll for the page (a GET to
# 127.0.0.1:PORT every 2 ms, 250 ms per attempt at most) is the bench's, the same for both tools.
# Rows: until `run -d` returned, until the first fetch (200 and the page's text), both medians of RUNS
# (default 10) after one warm-up round, and the ratio skiff/podman (issue 13: <= 0.5x).
# Images from the local fixture registry (bench/common.sh); traffic only to 127.0.0.1.
# PAUSE_MS=N waits N ms before each timed run: every tool's run then starts alone, not while the
# previous tool's `rm -f` (each engine finishes part of its teardown after rm returns) still works.
# SKIFF_OTHER=FILE adds another skiff (bin/skiff of a copy of main, or a dist/skiff) to the same rounds,
# on the same store, each skiff with a code cache home of its own.
# Usage: bash bench/net-port.sh            (as root; SKIP_ROOTLESS=1: rootful only; SKIFF_BIN=dist/skiff: the
#        single executable instead of bin/skiff)
source "$(dirname "$0")/common.sh"
RUSER=${RUSER:-skiffci}

# measure MODE: the rounds, with SKIFF_ROOT/PODMAN set by the caller (REGISTRY given)
measure() {
  local mode=$1
  export SKIFF_ROOT="$BENCH_TMP/skiff-root" SKIFF_RUNROOT="$BENCH_TMP/skiff-run"
  local podman_args="--root $BENCH_TMP/podman-root --runroot $BENCH_TMP/podman-run"
  IMAGE="$REGISTRY/busybox:latest"
  "$SKIFF" pull -q "$IMAGE" >/dev/null
  # shellcheck disable=SC2086
  podman $podman_args pull -q --tls-verify=false "$IMAGE" >/dev/null
  # podman gets explicit --ulimit values as in bench/run.sh (with its defaults crun fails here)
  # shellcheck disable=SC2086
  MODE=$mode SKIFF="$SKIFF" PODMAN="podman $podman_args" IMAGE="$IMAGE" RUNS="$RUNS" SKIFF_OTHER="${SKIFF_OTHER:-}" PAUSE_MS="${PAUSE_MS:-0}" CACHES="$BENCH_TMP" node -e '
    const { spawnSync } = require("child_process");
    const net = require("net");
    const now = () => Number(process.hrtime.bigint()) / 1e6;
    const freePort = () => new Promise((res) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); }); });
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    // one GET; resolves true for a 200 carrying the page
    const fetchOnce = (port) => new Promise((res) => {
      let buf = "";
      const c = net.connect(port, "127.0.0.1");
      const done = (ok) => { clearTimeout(t); c.destroy(); res(ok); };
      const t = setTimeout(() => done(false), 250);
      c.on("connect", () => c.write("GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n"));
      c.on("data", (d) => { buf += d; });
      c.on("end", () => done(/^HTTP\/1\.[01] 200/.test(buf) && buf.includes("skiff-bench-page")));
      c.on("error", () => done(false));
    });
    const cmd = ["sh", "-c", "mkdir -p /w && echo skiff-bench-page >/w/index.html && exec httpd -f -p 80 -h /w"];
    const tools = {
      skiff: { argv: [process.env.SKIFF], extra: [] },
      podman: { argv: process.env.PODMAN.split(" "), extra: ["--ulimit", "nproc=1024:1024", "--ulimit", "nofile=1024:1024"] },
    };
    if (process.env.SKIFF_OTHER) {
      tools.other = { argv: [process.env.SKIFF_OTHER], extra: [], env: { ...process.env, XDG_CACHE_HOME: `${process.env.CACHES}/cache-other` } };
      tools.skiff.env = { ...process.env, XDG_CACHE_HOME: `${process.env.CACHES}/cache` };
    }
    const rows = Object.fromEntries(Object.keys(tools).map((k) => [k, { run: [], fetch: [], tries: [] }]));
    (async () => {
      const runs = Number(process.env.RUNS);
      const pause = Number(process.env.PAUSE_MS || 0);
      for (let i = 0; i <= runs; i++) {
        for (const name of Object.keys(tools)) {
          const t = tools[name];
          const port = await freePort();
          if (pause) await sleep(pause);
          const t0 = now();
          const r = spawnSync(t.argv[0], [...t.argv.slice(1), "run", "-d", ...t.extra, "-p", `127.0.0.1:${port}:80`, process.env.IMAGE, ...cmd], { encoding: "utf8", env: t.env ?? process.env });
          const t1 = now();
          if (r.status !== 0) { console.error(`${name} run -d failed: ${r.stderr.trim()}`); process.exit(1); }
          const id = r.stdout.trim().split("\n").at(-1);
          let tries = 0, ok = false;
          while (now() - t0 < 30000) { tries++; if ((ok = await fetchOnce(port))) break; await sleep(2); }
          const t2 = now();
          spawnSync(t.argv[0], [...t.argv.slice(1), "rm", "-f", id], { stdio: "ignore", env: t.env ?? process.env });
          if (!ok) { console.error(`${name}: no page on 127.0.0.1:${port} within 30 s`); process.exit(1); }
          if (i === 0) continue; // warm-up
          rows[name].run.push(t1 - t0); rows[name].fetch.push(t2 - t0); rows[name].tries.push(tries);
        }
      }
      const med = (v) => { const s = [...v].sort((a, b) => a - b), m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
      const load = require("fs").readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
      console.log(`== ${process.env.MODE}: run -d -p 127.0.0.1:PORT:80 busybox httpd, until the first page fetched from the host (RUNS=${runs}, medians, load ${load})`);
      for (const [k, label] of [["run", "until run -d returned"], ["fetch", "until the first successful fetch"]]) {
        const s = med(rows.skiff[k]), p = med(rows.podman[k]);
        const o = rows.other ? `  other skiff ${med(rows.other[k]).toFixed(1).padStart(8)} ms  skiff/other ${(s / med(rows.other[k])).toFixed(2)}` : "";
        console.log(`${label.padEnd(34)} skiff ${s.toFixed(1).padStart(8)} ms  podman ${p.toFixed(1).padStart(8)} ms  ratio ${(s / p).toFixed(2)}${o}`);
      }
      console.log(`fetch attempts (median)            skiff ${med(rows.skiff.tries)}  podman ${med(rows.podman.tries)}`);
      console.log(`goal: first fetch skiff <= 0.5 x podman: ${(med(rows.skiff.fetch) / med(rows.podman.fetch)).toFixed(2)} x`);
    })();
  '
}

if [ "${NET_PORT_INNER:-}" = 1 ]; then # the rootless half, as RUSER (REGISTRY and BENCH_TMP given)
  measure rootless
  exit
fi
[ "$(id -u)" = 0 ] || { echo "Error: bench/net-port.sh runs as root (its rootless half as $RUSER)" >&2; exit 1; }
bench_registry
measure rootful
SKIFF_ROOT="$BENCH_TMP/skiff-root" SKIFF_RUNROOT="$BENCH_TMP/skiff-run" "$SKIFF" system reset --force >/dev/null 2>&1 || true
podman --root "$BENCH_TMP/podman-root" --runroot "$BENCH_TMP/podman-run" system reset --force >/dev/null 2>&1 || true
if [ "${SKIP_ROOTLESS:-}" = 1 ]; then exit; fi
if ! id "$RUSER" >/dev/null 2>&1; then echo "== rootless: no user $RUSER (scripts/rootless-user.sh makes one), skipped"; exit; fi
uid=$(id -u "$RUSER")
RT="$BENCH_TMP/rootless"
mkdir -p "$RT/xdg" && chown -R "$uid:$uid" "$RT" && chmod 0700 "$RT/xdg" && chmod 0755 "$BENCH_TMP"
runuser -u "$RUSER" -- env -i PATH="$PATH" HOME="$(getent passwd "$RUSER" | cut -d: -f6)" USER="$RUSER" LOGNAME="$RUSER" \
  XDG_RUNTIME_DIR="$RT/xdg" NET_PORT_INNER=1 SKIFF_BIN="$SKIFF" BENCH_TMP="$RT" REGISTRY="$REGISTRY" RUNS="$RUNS" SKIFF_OTHER="${SKIFF_OTHER:-}" PAUSE_MS="${PAUSE_MS:-0}" \
  bash "$REPO/bench/net-port.sh" || echo "(rootless half failed)"
runuser -u "$RUSER" -- env -i PATH="$PATH" HOME="$(getent passwd "$RUSER" | cut -d: -f6)" XDG_RUNTIME_DIR="$RT/xdg" \
  SKIFF_ROOT="$RT/skiff-root" SKIFF_RUNROOT="$RT/skiff-run" "$SKIFF" system reset --force >/dev/null 2>&1 || true
runuser -u "$RUSER" -- env -i PATH="$PATH" HOME="$(getent passwd "$RUSER" | cut -d: -f6)" XDG_RUNTIME_DIR="$RT/xdg" \
  podman --root "$RT/podman-root" --runroot "$RT/podman-run" system reset --force >/dev/null 2>&1 || true
