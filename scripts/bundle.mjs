#!/usr/bin/env node
// bundle.mjs — `make bundle`'s esbuild step: the CLI bundle dist/skiff.cjs and, next to it, the schema
// part dist/skiff-schemas.cjs (compose's and kube's generated validators, 0.6 MB: a quarter of what
// every start-up would read and map). In the main bundle the two generated modules are stubs whose
// exports load the part on first use, through the launcher's globalThis.__skiffLoadPart (bin/skiff.cjs;
// the single executable carries the part as an asset: scripts/make-sea.mjs, bin/sea.cjs). Only compose
// and kube commands reach them (src/compose/schema.ts, src/kube/schema.ts, through import()).
// The source is unchanged: tsc's output (the unit tests) imports the generated modules themselves.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const esbuild = createRequire(path.join(repo, 'package.json'))('esbuild');
const version = process.argv[2];
if (!version) throw new Error('usage: bundle.mjs VERSION');

const PART = 'skiff-schemas.cjs';
// generated module (as src/ imports it) -> what the part's entry returns for it
const STUBS = {
  'compose/schema-validate.generated.js': { key: 'compose', names: ['validate'] },
  'kube/schema-validate.generated.js': { key: 'kube', names: ['source'] },
};

const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' };

const stubs = {
  name: 'skiff-schema-part',
  setup(build) {
    build.onResolve({ filter: /schema-validate\.generated\.js$/ }, (args) => {
      const rel = path.relative(path.join(repo, 'src'), path.join(args.resolveDir, args.path)).split(path.sep).join('/');
      return STUBS[rel] ? { path: rel, namespace: 'skiff-part' } : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'skiff-part' }, (args) => {
      const { key, names } = STUBS[args.path];
      // getters: the part is read when an export is first used, not when the importer is evaluated
      const props = names.map((n) => `${JSON.stringify(n)}:{enumerable:true,get:()=>globalThis.__skiffLoadPart(${JSON.stringify(PART)}).${key}()[${JSON.stringify(n)}]}`);
      return { contents: `Object.defineProperties(module.exports,{${props.join(',')}});`, loader: 'js' };
    });
  },
};

await esbuild.build({
  ...common,
  entryPoints: [path.join(repo, 'src/cli/main.ts')],
  outfile: path.join(repo, 'dist/skiff.cjs'),
  define: { 'import.meta.url': '__skiff_url', SKIFF_VERSION: JSON.stringify(version) },
  banner: { js: "var __skiff_url=require('url').pathToFileURL(__filename).href;" },
  plugins: [stubs],
});

// the part: each validator module evaluated on first use (kube commands use compose's too)
await esbuild.build({
  ...common,
  stdin: {
    contents: Object.entries(STUBS)
      .map(([mod, { key }]) => `let ${key}; exports.${key} = () => (${key} ??= require(${JSON.stringify(`./src/${mod.replace(/\.js$/, '.ts')}`)}));`)
      .join('\n'),
    resolveDir: repo,
    loader: 'js',
  },
  outfile: path.join(repo, 'dist', PART),
  charset: 'ascii',
});
