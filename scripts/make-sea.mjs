#!/usr/bin/env node
// make-sea.mjs — `make dist`: the single executable dist/skiff (after `make build`).
// Node's single executable application support (node --experimental-sea-config, postject from npm):
// a copy of this node (stripped of its debug symbols) with a blob that holds bin/sea.cjs (bundled
// with bin/skiff.cjs, bin/trusted-dir.cjs and the manifest, compiled with V8's code cache:
// useCodeCache) and the assets bin/sea.cjs reads: the CLI bundle (wrapped) and its code cache, the native parts and
// the shared libraries they need that a Debian 12 minbase lacks (libisal.so.2, loaded through the
// layer addon's RUNPATH $ORIGIN). The blob must be made by the node it goes into: this one.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(repo, 'dist');
const work = path.join(dist, 'sea');
const out = process.argv[2] ? path.resolve(process.argv[2]) : path.join(dist, 'skiff');
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const die = (msg) => {
  process.stderr.write(`make-sea: ${msg}\n`);
  process.exit(1);
};
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts }).toString();

// ---- the node that becomes the executable -----------------------------------------------------------
const node = process.execPath;
const nodeBytes = fs.readFileSync(node);
if (!nodeBytes.includes(`${FUSE}:0`)) {
  die(nodeBytes.includes(`${FUSE}:1`)
    ? `${node} is already a single executable application (its SEA fuse is set)`
    : `${node} (${process.version}) has no single-executable support (no ${FUSE} in it): build with a node from nodejs.org or NodeSource, whose binaries carry it`);
}

// ---- parts --------------------------------------------------------------------------------------------
const PARTS = ['skiff_native.node', 'skiff_layer.node', 'skiff-shim', 'skiff-init'];
for (const p of PARTS) if (!fs.existsSync(path.join(dist, p))) die(`dist/${p} is missing: run 'make build' first`);
// shared libraries of the addons: those every Debian 12 (minbase) has, and those we carry
const SYSTEM = /^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libdl\.so\.2|libpthread\.so\.0|ld-linux-x86-64\.so\.2|\/lib64\/ld-linux-x86-64\.so\.2)$/;
const CARRIED = new Set(['libisal.so.2']);
const parts = {};
const files = {};
for (const p of PARTS) {
  const file = path.join(dist, p);
  const needs = [];
  if (p.endsWith('.node')) {
    for (const line of run('ldd', [file]).split('\n')) {
      const m = /^\s*(\S+)(?:\s+=>\s+(\S+))?/.exec(line);
      if (!m || SYSTEM.test(m[1])) continue;
      if (!CARRIED.has(m[1]) || !m[2]) die(`${p} links ${m[1]}, which Debian 12 minbase lacks: carry it (CARRIED in scripts/make-sea.mjs) or link it statically`);
      needs.push(m[1]);
      files[m[1]] = fs.realpathSync(m[2]);
    }
    const dyn = run('readelf', ['-d', file]);
    if (needs.length && !/RUNPATH.*\[\$ORIGIN\]/.test(dyn)) die(`${p} needs ${needs.join(', ')} but has no RUNPATH $ORIGIN (addon/binding.gyp)`);
  }
  files[p] = file;
  if (needs.length) parts[p] = { needs };
}
for (const [name, file] of Object.entries(files)) {
  const bytes = fs.readFileSync(file);
  parts[name] = { ...parts[name], size: bytes.length, sha256: sha256(bytes) };
}
const sorted = Object.fromEntries(Object.entries(parts).sort(([a], [b]) => a.localeCompare(b)));

// ---- the bundle and its code cache ----------------------------------------------------------------------
// the bundle's identity (code cache keys, `--version`'s build) covers the part it loads on demand too
const bundleText = fs.readFileSync(path.join(dist, 'skiff.cjs'));
const schemasFile = path.join(dist, 'skiff-schemas.cjs');
const bundle = Buffer.concat([bundleText, fs.readFileSync(schemasFile)]);
const cacheFile = path.join(dist, 'skiff.cjs.cache');
if (!fs.existsSync(cacheFile) || fs.statSync(cacheFile).mtimeMs < fs.statSync(path.join(dist, 'skiff.cjs')).mtimeMs) die("dist/skiff.cjs.cache is missing or older than the bundle: run 'make bundle'");
const version = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).version;
const manifest = { version, node: process.version, bundle: sha256(bundle), id: sha256(JSON.stringify(sorted)), parts: sorted };

fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
fs.writeFileSync(path.join(work, 'manifest.json'), JSON.stringify(manifest));
// the manifest goes into the entry's code (SKIFF_SEA_MANIFEST), not an asset: `--version` answers from it
run(path.join(repo, 'node_modules/.bin/esbuild'), [path.join(repo, 'bin/sea.cjs'), '--bundle', '--platform=node', '--format=cjs', '--target=node20', `--define:SKIFF_SEA_MANIFEST=${JSON.stringify(manifest)}`, `--outfile=${path.join(work, 'main.cjs')}`, '--log-level=warning']);
// the bundle as the launcher compiles it, wrapped as a CommonJS module (by this node: the same wrapper
// as at run time), so that it compiles one flat string (bin/skiff.cjs); the code cache is of that text
fs.writeFileSync(path.join(work, 'skiff.cjs'), Module.wrap(bundleText.toString('latin1')), 'latin1');
const assets = { 'skiff.cjs': path.join(work, 'skiff.cjs'), 'skiff.cjs.cache': cacheFile, 'skiff-schemas.cjs': schemasFile };
for (const [name, file] of Object.entries(files)) assets[`part/${name}`] = file;
const config = { main: path.join(work, 'main.cjs'), output: path.join(work, 'prep.blob'), disableExperimentalSEAWarning: true, useCodeCache: true, assets };
fs.writeFileSync(path.join(work, 'sea-config.json'), JSON.stringify(config, null, 1));
run(node, ['--experimental-sea-config', path.join(work, 'sea-config.json')], { cwd: work });

// ---- inject ---------------------------------------------------------------------------------------------
const tmp = `${out}.tmp${process.pid}`;
try {
  run('strip', ['--strip-all', '-o', tmp, node]); // debug symbols: ~12 MB of this node; .dynsym (the addons' N-API) stays
  // Node 20 takes `--env-file FILE` from anywhere on its command line, also a single executable's (whose
  // whole argv is skiff's): `skiff run --env-file F` made node load F into skiff's own environment,
  // NODE_OPTIONS in it included, or exit 9. The launcher's `node --` stops that scan; here nothing can
  // come first, so node's names for the option are renamed (same length) in the copy: with no node
  // options of its own, the executable never needs them.
  const exe = fs.readFileSync(tmp);
  for (const name of ['--env-file', '--env-file-if-exists']) {
    const from = Buffer.from(`${name}\0`);
    const at = [];
    for (let i = exe.indexOf(from); i >= 0; i = exe.indexOf(from, i + 1)) at.push(i);
    if (at.length > 1) die(`${node}: "${name}" appears ${at.length} times: cannot rename node's option`);
    for (const i of at) Buffer.from(`${name.replace('--env-file', '--skiff-nv')}\0`).copy(exe, i);
  }
  fs.writeFileSync(tmp, exe);
  run(path.join(repo, 'node_modules/.bin/postject'), [tmp, 'NODE_SEA_BLOB', path.join(work, 'prep.blob'), '--sentinel-fuse', FUSE]);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, out);
} catch (e) {
  fs.rmSync(tmp, { force: true });
  die(`building ${out}: ${e.stderr?.toString().trim().split('\n').pop() || e.message}`);
}
const line = run(out, ['--version']).trim();
const mb = (n) => `${(n / 1048576).toFixed(1)} MB`;
const size = fs.statSync(out).size;
process.stdout.write(`${path.relative(repo, out)}: ${line}; ${mb(size)} (node ${process.version} ${mb(nodeBytes.length)}, ${size >= nodeBytes.length ? "+" : ""}${mb(size - nodeBytes.length)}; parts ${manifest.id.slice(0, 12)})\n`);
