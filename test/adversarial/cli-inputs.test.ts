/**
 * Hostile values given to `run`/`create`/`rename`: NUL bytes (from an env file, an image's config, a
 * seccomp profile: argv cannot carry one), bytes that are not UTF-8, names and hostnames longer than
 * where they end up allows. Each is refused before anything is created: one `Error:` line, Docker's
 * exit code (125), and the store exactly as before (no record, name link, volume, staging entry,
 * mount, process or cgroup). Afterwards the store still runs containers. Rootful and rootless.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { leftSince, storeSnapshot } from '../helpers/leftovers.js';
import { skiff, type TempStore, storeWithImage } from '../helpers/fixtures.js';

describe('hostile CLI inputs are refused before anything is created', () => {
  let store: TempStore;
  let image: string;
  let dir: string;
  before(async () => {
    ({ store, image } = await storeWithImage());
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-cli-inputs-'));
    fs.chmodSync(dir, 0o755);
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await store.cleanup();
  });

  const file = (name: string, data: string | Buffer): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, data);
    return p;
  };

  /**
   * `save` the test image, change its config with `edit`, `load` it back as `tag` (a docker-archive:
   * manifest.json naming the new config blob by its digest), as an image author could publish it.
   */
  async function imageWithConfig(tag: string, edit: (config: { Env?: string[]; Cmd?: string[]; Labels?: Record<string, string> }) => void): Promise<string> {
    const work = fs.mkdtempSync(path.join(dir, 'img-'));
    const tar = path.join(work, 'in.tar');
    assert.equal((await skiff(['save', '-o', tar, image], { store })).code, 0);
    const tree = path.join(work, 'tree');
    fs.mkdirSync(tree);
    execFileSync('tar', ['xf', tar, '-C', tree]);
    const manifest = JSON.parse(fs.readFileSync(path.join(tree, 'manifest.json'), 'utf8')) as { Config: string; RepoTags: string[] }[];
    const cfg = JSON.parse(fs.readFileSync(path.join(tree, manifest[0]!.Config), 'utf8')) as { config: Parameters<typeof edit>[0] };
    edit(cfg.config);
    const bytes = Buffer.from(JSON.stringify(cfg));
    const hex = crypto.createHash('sha256').update(bytes).digest('hex');
    fs.writeFileSync(path.join(tree, 'blobs', 'sha256', hex), bytes);
    manifest[0] = { ...manifest[0]!, Config: `blobs/sha256/${hex}`, RepoTags: [tag] };
    fs.writeFileSync(path.join(tree, 'manifest.json'), JSON.stringify(manifest));
    for (const f of ['index.json', 'oci-layout']) fs.rmSync(path.join(tree, f), { force: true });
    const out = path.join(work, 'out.tar');
    execFileSync('tar', ['cf', out, '-C', tree, '.']);
    const r = await skiff(['load', '-i', out], { store });
    assert.equal(r.code, 0, r.stderr);
    return tag;
  }

  /** The command fails with exactly `line` and `code`, and leaves the store as it was. */
  async function refused(args: string[], code: number, line: string | RegExp): Promise<void> {
    const snap = storeSnapshot(store);
    const r = await skiff(args, { store });
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${JSON.stringify(r.stderr)}`);
    if (typeof line === 'string') assert.equal(r.stderr, `Error: ${line}\n`);
    else assert.match(r.stderr, line);
    assert.ok(!r.stderr.includes('\0'), 'the NUL itself is not printed');
    assert.deepEqual(await leftSince(store, snap), {}, `${args.join(' ')} left something`);
  }

  test('an env file holding a NUL byte: run --rm, run -d --rm and create', async () => {
    const f = file('nul.env', 'A=1\nB=x\0y\n');
    const line = `invalid environment variable "B=x\\x00y" in ${f} (line 2): it contains a NUL byte`;
    await refused(['run', '--rm', '--env-file', f, image, 'true'], 125, line);
    await refused(['run', '-d', '--rm', '--name', 'nulenv', '--env-file', f, image, 'true'], 125, line);
    await refused(['create', '--name', 'nulenv', '--env-file', f, image, 'true'], 125, line);
  });

  test('an env file that is not UTF-8 (Docker: contains invalid utf8 bytes)', async () => {
    const f = file('latin1.env', Buffer.from('A=\xe9t\xe9\n', 'latin1'));
    await refused(['run', '--rm', '--env-file', f, image, 'true'], 125, `env file ${f} contains invalid utf8 bytes at line 1: [65 61 233 116 233]`);
  });

  test("an image whose config holds a NUL (Env, Cmd, a label): the image author's values are checked too", async () => {
    const env = await imageWithConfig('nul-env:1', (c) => void (c.Env = [...(c.Env ?? []), 'EVIL=a\0b']));
    await refused(['run', '--rm', env, 'true'], 125, 'invalid environment variable "EVIL=a\\x00b": it contains a NUL byte');
    const cmd = await imageWithConfig('nul-cmd:1', (c) => void (c.Cmd = ['sh', '-c', 'echo\0rm -rf /']));
    await refused(['run', '--rm', cmd], 125, 'invalid command "echo\\x00rm -rf /": it contains a NUL byte');
    // a value given on the command line replaces the image's: then nothing of it is left to refuse
    const ok = await skiff(['run', '--rm', cmd, 'echo', 'replaced'], { store });
    assert.equal(ok.stdout, 'replaced\n', ok.stderr);
    const label = await imageWithConfig('nul-label:1', (c) => void (c.Labels = { 'k\0': 'v' }));
    await refused(['create', label, 'true'], 125, 'invalid label "k\\x00": it contains a NUL byte');
  });

  test('a seccomp profile holding a NUL', async () => {
    const profile = file('seccomp.json', JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid\0'], action: 'SCMP_ACT_ERRNO' }] }));
    await refused(['run', '--rm', '--security-opt', `seccomp=${profile}`, image, 'true'], 125, /^Error: invalid seccomp profile value "getpid\\x00": it contains a NUL byte\n$/);
  });

  test('a 300-character name (run, create, rename) and a hostname over 64 bytes', async () => {
    const long = 'n'.repeat(300);
    const line = `Invalid container name (${long}): it is 300 characters long, at most 255 are allowed`;
    await refused(['run', '--rm', '--name', long, image, 'true'], 125, line);
    await refused(['create', '--name', long, image, 'true'], 125, line);
    assert.equal((await skiff(['create', '--name', 'short', image, 'true'], { store })).code, 0);
    await refused(['rename', 'short', long], 125, line);
    await refused(['rename', 'short', `/${long}`], 125, `Invalid container name (/${long}): it is 300 characters long, at most 255 are allowed`);
    // 255 is the limit, not less
    const max = 'm'.repeat(255);
    assert.equal((await skiff(['rename', 'short', max], { store })).code, 0);
    assert.equal((await skiff(['rm', max], { store })).code, 0);
    const host = 'h'.repeat(65);
    await refused(['run', '--rm', '-h', host, image, 'true'], 125, `invalid hostname "${host}": it is longer than 64 bytes (the kernel's limit)`);
    const r = await skiff(['run', '--rm', '-h', 'h'.repeat(64), image, 'hostname'], { store });
    assert.equal(r.stdout, `${'h'.repeat(64)}\n`, r.stderr);
  });

  test("values Docker refuses, with Docker's words: -e '', labels without a name, a relative -w, uids out of range", async () => {
    await refused(['run', '--rm', '-e', '', image, 'true'], 125, 'invalid environment variable: ');
    await refused(['run', '--rm', '-e', '=x', image, 'true'], 125, 'invalid environment variable: =x');
    await refused(['create', '--label', '=x', image, 'true'], 125, "invalid label '=x': empty name");
    await refused(['create', '--label', 'a b=x', image, 'true'], 125, "label 'a b' contains whitespaces");
    await refused(['run', '--rm', '-w', 'rel', image, 'true'], 125, "the working directory 'rel' is invalid, it needs to be an absolute path");
    await refused(['run', '--rm', '-u', '99999999999', image, 'true'], 125, 'uids and gids must be in range 0-2147483647');
    await refused(['run', '--rm', '-u', '0:2147483648', image, 'true'], 125, 'uids and gids must be in range 0-2147483647');
    const r = await skiff(['run', '--rm', '-u', '2147483647:2147483647', '--label', ' lead=ok', image, 'true'], { store });
    assert.notEqual(r.stderr, 'Error: uids and gids must be in range 0-2147483647\n');
  });

  test('the store still pulls, runs and lists afterwards', async () => {
    const r = await skiff(['run', '--rm', image, 'echo', 'fine'], { store });
    assert.equal(r.stdout, 'fine\n', r.stderr);
    assert.equal((await skiff(['ps', '-a'], { store })).code, 0);
    assert.equal((await skiff(['pull', '-q', image], { store })).code, 0);
  });
});
