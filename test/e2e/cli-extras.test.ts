/**
 * Docker's template fields and Podman's extras (issue 16): inspect templates over Go's structs (.ID,
 * zero-valued fields, --type), ps {{.Label}}, Go's time formats in images/history, version --format;
 * --all/--latest/--ignore/--filter on the lifecycle verbs, rm -t, run --replace, untag, image exists,
 * ps/images --noheading and --sort, commit pausing a running container, --platform that does not match.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fixtures, SKIFF_BIN, storeCli, storeWithImage, type TempStore } from '../helpers/fixtures.js';

describe('CLI extras: templates and Podman flags', () => {
  let store: TempStore;
  let image: string;
  const { sk, ok } = storeCli(() => store);
  // the containers of the lifecycle test (names starting with x)
  const names = async (all = true): Promise<string> =>
    (await ok(['ps', ...(all ? ['-a'] : []), '--filter', 'name=^x', '--format', '{{.Names}}={{.State}}', '--sort', 'names'])).trim().split('\n').filter(Boolean).join(' ');

  before(async () => {
    ({ store, image } = await storeWithImage('busybox'));
  });
  after(async () => store.cleanup());

  test('inspect templates see Go structs: .ID, zero-valued fields, if on a missing Health, --type', async () => {
    await ok(['create', '--name', 'tpl', '--label', 'k=v 1', image, 'true']);
    const id = (await ok(['inspect', '--format', '{{.Id}}', 'tpl'])).trim();
    assert.equal(await ok(['inspect', '--format', '{{.ID}}|{{.Config.StopSignal}}|{{if .State.Health}}h{{else}}none{{end}}|{{with .Config.User}}u{{else}}root{{end}}', 'tpl']), `${id}||none|root\n`);
    // the JSON is unchanged: no ID key beside Id, no fields Docker omits
    const json = JSON.parse(await ok(['inspect', 'tpl'])) as Record<string, unknown>[];
    assert.ok(!('ID' in json[0]!) && !('Health' in (json[0]!.State as object)));
    const imgId = (await ok(['image', 'inspect', '--format', '{{.Id}}', image])).trim();
    assert.equal(await ok(['image', 'inspect', '--format', '{{.ID}}|{{.Config.User}}|{{.Config.StopSignal}}|{{.Variant}}', image]), `${imgId}|||\n`);
    // --type: only that kind; a volume and a network by name
    await ok(['volume', 'create', 'tplvol']);
    assert.equal(await ok(['inspect', '--type', 'volume', '--format', '{{.Name}} {{.Driver}}', 'tplvol']), 'tplvol local\n');
    assert.equal(await ok(['inspect', '--format', '{{.Name}}', 'tplvol']), 'tplvol\n');
    const wrong = await sk(['inspect', '--type', 'image', 'tpl']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^Error: No such image: tpl$/m);
    const bad = await sk(['inspect', '--type', 'bogus', 'tpl']);
    assert.equal(bad.code, 125, bad.stderr);
    // ps {{.Label "k"}}
    assert.equal(await ok(['ps', '-a', '--filter', 'name=tpl', '--format', '{{.Label "k"}}|{{.Label "none"}}']), 'v 1|\n');
    await ok(['rm', 'tpl']);
    await ok(['volume', 'rm', 'tplvol']);
  });

  test("Go's time formats: images CreatedAt as time.String(), history CreatedAt as RFC 3339", async () => {
    assert.match(await ok(['images', '--format', '{{.CreatedAt}}', image]), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC\n$/);
    for (const l of (await ok(['history', '--format', '{{.CreatedAt}}', image])).trim().split('\n')) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test('version --format: a template over Client and Server, and json', async () => {
    const v = (await ok(['version', '--format', '{{.Client.Version}} {{.Server.ApiVersion}}'])).trim();
    assert.match(v, /^\S+ 1\.\d+$/);
    const json = JSON.parse(await ok(['version', '--format', 'json'])) as { Client: { Version: string }; Server: { Os: string } };
    assert.equal(json.Server.Os, 'linux');
    assert.equal(json.Client.Version, v.split(' ')[0]);
  });

  test('--all on pause/unpause/stop/start/kill, --filter on start, --latest, rm -a', async () => {
    for (const n of ['xa', 'xb']) await ok(['run', '-d', '--name', n, image, 'sleep', '1000']);
    await ok(['create', '--name', 'xc', image, 'sleep', '1000']);
    await ok(['pause', '-a']);
    assert.equal(await names(), 'xa=paused xb=paused xc=created');
    await ok(['unpause', '--all']);
    assert.equal(await names(false), 'xa=running xb=running');
    await ok(['stop', '-a', '-t', '0']);
    assert.equal(await names(), 'xa=exited xb=exited xc=created');
    // start --filter: only the matching ones
    await ok(['start', '--filter', 'name=xb']);
    assert.equal(await names(false), 'xb=running');
    await ok(['kill', '-a']);
    assert.equal(await names(false), ''); // SIGKILL returns once the container has stopped (Docker's kill)
    await ok(['start', '--all']);
    assert.equal(await names(false), 'xa=running xb=running xc=running');
    // --latest: the newest container (xc)
    assert.equal((await ok(['stop', '--latest', '--timeout', '0'])).trim().length, 64);
    assert.equal(await names(false), 'xa=running xb=running');
    // names together with --all are refused; neither is arity's error
    const both = await sk(['stop', '-a', 'xa']);
    assert.equal(both.code, 125);
    assert.match(both.stderr, /^Error: --all and container names or IDs cannot be used together$/m);
    const none = await sk(['stop']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^Error: 'skiff stop' requires at least 1 argument$/m);
    // rm -f -t N stops it with the stop signal first (sh -c traps TERM and exits 7)
    await ok(['run', '-d', '--name', 'xt', image, 'sh', '-c', "trap 'exit 7' TERM; while :; do sleep 0.1; done"]);
    await ok(['rm', '-f', '-t', '5', 'xt']);
    await ok(['rm', '-a', '-f']);
    assert.equal(await names(), '');
  });

  test('--latest on logs, wait and inspect: the newest container', async () => {
    await ok(['run', '--name', 'lat1', image, 'echo', 'first']);
    assert.equal((await sk(['run', '--name', 'lat2', image, 'sh', '-c', 'echo second; exit 4'])).code, 4);
    assert.equal(await ok(['logs', '-l']), 'second\n');
    assert.equal(await ok(['wait', '--latest']), '4\n');
    assert.equal(await ok(['container', 'inspect', '-l', '--format', '{{.Name}}']), '/lat2\n');
    const none = await sk(['logs']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^Error: 'skiff logs' requires exactly 1 argument$/m);
    await ok(['rm', 'lat1', 'lat2']);
  });

  test('foreground and attached runs are logged (stdout and stderr apart, a terminal as stdout); a closed reader still ends the run', async () => {
    const run = await sk(['run', '--name', 'fg', image, 'sh', '-c', 'echo out; echo err >&2; echo out2']);
    assert.deepEqual([run.code, run.stdout, run.stderr], [0, 'out\nout2\n', 'err\n']);
    const logs = await sk(['logs', 'fg']);
    assert.deepEqual([logs.stdout, logs.stderr], ['out\nout2\n', 'err\n']);
    // the container's stdout is a pipe, not the caller's (Docker's: no terminal without -t)
    assert.equal(await ok(['run', '--rm', image, 'sh', '-c', 'test -t 1 && echo tty || echo notty']), 'notty\n');
    await ok(['start', '-a', 'fg']);
    assert.equal((await sk(['logs', 'fg'])).stdout, 'out\nout2\nout\nout2\n');
    await ok(['rm', 'fg']);
    const tty = await sk(['run', '-t', '--name', 'fgt', image, 'echo', 'on-tty']);
    assert.equal(tty.code, 0, tty.stderr);
    assert.equal((await sk(['logs', 'fgt'])).stdout, 'on-tty\r\n');
    await ok(['rm', 'fgt']);
    // the reader goes away: the writer's next write fails (yes, pid 1, then exits: an init ignores SIGPIPE's default action)
    const piped = await new Promise<string>((resolve, reject) => {
      const p = spawn('sh', ['-c', `"$SKIFF" run --rm ${image} yes | head -n 2`], { env: { ...process.env, ...store.env, SKIFF: SKIFF_BIN, NO_COLOR: '1' } });
      let out = '';
      p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      p.on('error', reject);
      p.on('close', () => resolve(out));
    });
    assert.equal(piped, 'y\ny\n');
  });

  test('--ignore on rm and stop; run --replace; untag; image exists', async () => {
    const missing = await sk(['rm', 'nosuch-ctr']);
    assert.equal(missing.code, 1);
    for (const args of [['rm', '--ignore', 'nosuch-ctr'], ['stop', '-i', 'nosuch-ctr']]) {
      const r = await sk(args);
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', ''], args.join(' '));
    }
    await ok(['create', '--name', 'rep', image, 'echo', 'one']);
    const first = (await ok(['inspect', '--format', '{{.Id}}', 'rep'])).trim();
    assert.equal(await ok(['run', '--replace', '--name', 'rep', image, 'echo', 'two']), 'two\n');
    assert.notEqual((await ok(['inspect', '--format', '{{.Id}}', 'rep'])).trim(), first);
    assert.equal((await sk(['inspect', first])).code, 1);
    const noName = await sk(['run', '--replace', image, 'true']);
    assert.equal(noName.code, 125);
    await ok(['rm', 'rep']);
    await ok(['tag', image, 'extra:one']);
    await ok(['tag', image, 'extra:two']);
    assert.equal((await sk(['image', 'exists', 'extra:one'])).code, 0);
    await ok(['untag', image, 'extra:one']);
    const gone = await sk(['image', 'exists', 'extra:one']);
    assert.deepEqual([gone.code, gone.stdout, gone.stderr], [1, '', '']);
    assert.equal((await sk(['image', 'exists', 'extra:two'])).code, 0);
    const unknownTag = await sk(['untag', image, 'extra:nine']);
    assert.equal(unknownTag.code, 125);
    assert.match(unknownTag.stderr, /^Error: extra:nine: tag not known/m);
  });

  test('ps and images --noheading and --sort', async () => {
    await ok(['tag', image, 'aaa:1']);
    await ok(['tag', image, 'zzz:1']);
    const repos = (await ok(['images', '--noheading', '--sort', 'repository'])).trim().split('\n').map((l) => l.split(/\s+/)[0]);
    assert.deepEqual(repos, [...repos].sort());
    assert.ok(!repos.includes('REPOSITORY'));
    const table = (await ok(['images', '--noheading', '--format', 'table {{.Repository}}', '--sort', 'repository'])).trim().split('\n');
    assert.deepEqual(table, [...table].sort());
    assert.ok(!table.includes('REPOSITORY') && table.includes('aaa'), table.join(','));
    const bad = await sk(['images', '--sort', 'bogus']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: invalid option for --sort, options are: \[created id repository size tag\]$/m);
    for (const n of ['sb', 'sa']) await ok(['create', '--name', n, image, 'true']);
    assert.equal(await ok(['ps', '-a', '--noheading', '--sort', 'names', '--format', '{{.Names}}']), 'sa\nsb\n');
    assert.ok(!(await ok(['ps', '-a', '--noheading'])).includes('CONTAINER ID'));
    await ok(['rm', 'sa', 'sb']);
  });

  test('commit pauses a running container while it reads its changes, and unpauses it', async () => {
    await ok(['run', '-d', '--name', 'cm', image, 'sh', '-c', 'echo x >/made && sleep 1000']);
    const r = await sk(['commit', 'cm', 'committed:p']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await ok(['inspect', '--format', '{{.State.Status}}', 'cm']), 'running\n');
    assert.equal(await ok(['run', '--rm', 'committed:p', 'cat', '/made']), 'x\n');
    await ok(['rm', '-f', 'cm']);
  });

  test('--platform: a local image of another platform is pulled again, and refused if the registry has no such one', async () => {
    const bad = await sk(['create', '--platform', 'linux/arm64', image, 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: image with reference .* was found but does not match the specified platform: wanted linux\/arm64, actual: linux\/amd64$/m);
    const before = await ok(['ps', '-a', '-q']);
    const never = await sk(['create', '--pull', 'never', '--platform', 'linux/arm64', image, 'true']);
    assert.equal(never.code, 125);
    assert.equal(await ok(['ps', '-a', '-q']), before);
    // a multi-platform image: the arm64 one is pulled (created, not run: this machine is amd64)
    const multi = fixtures().images.multiarch.ref;
    const c = await sk(['create', '--platform', 'linux/arm64', multi, 'true']);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(await ok(['image', 'inspect', '--format', '{{.Architecture}}', multi]), 'arm64\n');
    await ok(['rm', c.stdout.trim()]);
  });
});
