/**
 * run/create -a/--attach (issue 15): only the named streams reach the terminal, the json-file log
 * keeps every stream; stdin is attached only with -i (or -a stdin); -a with -d is Docker's error;
 * start -a shows both outputs and takes stdin only with -i.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { skiff, storeWithImage, type TempStore } from '../helpers/fixtures.js';

describe('run -a/--attach', () => {
  let store: TempStore;
  let image: string;
  const sk = (args: string[], input?: string) => skiff(args, { store, ...(input !== undefined ? { input } : {}) });
  const ok = async (args: string[]): Promise<string> => {
    const r = await sk(args);
    assert.equal(r.code, 0, `skiff ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const script = 'echo out; echo err >&2; exit 3';

  before(async () => {
    ({ store, image } = await storeWithImage('busybox'));
  });
  after(async () => store.cleanup());

  test('-a stdout shows stdout only; the log keeps stderr; the exit code is the container\'s', async () => {
    const r = await sk(['run', '--name', 'aout', '-a', 'stdout', image, 'sh', '-c', script]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, '');
    const logs = await sk(['logs', 'aout']);
    assert.equal(logs.stdout, 'out\n');
    assert.equal(logs.stderr, 'err\n');
    assert.equal(await ok(['inspect', '-f', '{{.Config.AttachStdin}} {{.Config.AttachStdout}} {{.Config.AttachStderr}}', 'aout']), 'false true false\n');
    await ok(['rm', 'aout']);
  });

  test('-a STDERR (any case) shows stderr only; repeated -a adds streams', async () => {
    const e = await sk(['run', '--rm', '-a', 'STDERR', image, 'sh', '-c', script]);
    assert.deepEqual([e.code, e.stdout, e.stderr], [3, '', 'err\n']);
    const both = await sk(['run', '--rm', '--attach', 'stdout', '--attach', 'Stderr', image, 'sh', '-c', script]);
    assert.deepEqual([both.code, both.stdout, both.stderr], [3, 'out\n', 'err\n']);
  });

  test('stdin: attached with -i only; -a stdin alone prints the id and ends with 0', async () => {
    // without -i the container reads nothing of ours (Docker's: stdin is not attached)
    assert.equal((await sk(['run', '--rm', image, 'cat'], 'piped\n')).stdout, '');
    assert.equal((await sk(['run', '--rm', '-i', image, 'cat'], 'piped\n')).stdout, 'piped\n');
    assert.equal((await sk(['run', '--rm', '-i', '-a', 'stdout', image, 'cat'], 'piped\n')).stdout, 'piped\n');
    const r = await sk(['run', '--name', 'ain', '-i', '-a', 'stdin', image, 'sh', '-c', 'cat; exit 4'], 'piped\n');
    assert.equal(r.code, 0, r.stderr);
    const id = (await ok(['inspect', '-f', '{{.Id}}', 'ain'])).trim();
    assert.equal(r.stdout, `${id}\n`);
    assert.equal(await ok(['inspect', '-f', '{{.State.ExitCode}}', 'ain']), '4\n');
    assert.equal(await ok(['logs', 'ain']), 'piped\n');
    await ok(['rm', 'ain']);
  });

  test('create -a records the streams; start -a shows both outputs (Docker\'s start ignores them)', async () => {
    await ok(['create', '--name', 'cra', '-a', 'stderr', image, 'sh', '-c', script]);
    assert.equal(await ok(['inspect', '-f', '{{.Config.AttachStdout}} {{.Config.AttachStderr}}', 'cra']), 'false true\n');
    const s = await sk(['start', '-a', 'cra']);
    assert.deepEqual([s.code, s.stdout, s.stderr], [3, 'out\n', 'err\n']);
    await ok(['rm', 'cra']);
    // start -a of a -i container: stdin only with start -i
    await ok(['create', '--name', 'cri', '-i', image, 'cat']);
    assert.equal((await sk(['start', '-a', 'cri'], 'one\n')).stdout, '');
    assert.equal((await sk(['start', '-a', '-i', 'cri'], 'two\n')).stdout, 'two\n');
    await ok(['rm', 'cri']);
  });

  test('bad input: an unknown stream (125), -a with -d (1); nothing is created', async () => {
    const bad = await sk(['run', '-a', 'stdio', image, 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: invalid argument "stdio" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR$/m);
    const cbad = await sk(['create', '-a', 'x', image, 'true']);
    assert.equal(cbad.code, 125);
    const conflict = await sk(['run', '-d', '-a', 'stdout', image, 'true']);
    assert.equal(conflict.code, 1);
    assert.equal(conflict.stderr, 'Error: Conflicting options: -a and -d\n');
    assert.equal(await ok(['ps', '-aq']), '');
    // run -d: no stream is attached (Docker's Config)
    await ok(['run', '-d', '--name', 'det', image, 'true']);
    assert.equal(await ok(['inspect', '-f', '{{.Config.AttachStdin}} {{.Config.AttachStdout}} {{.Config.AttachStderr}}', 'det']), 'false false false\n');
    await ok(['rm', '-f', 'det']);
  });
});
