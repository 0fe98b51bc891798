/**
 * What surrounds the commands (issue 18), through the CLI binary, rootful and rootless:
 * `skiff completion bash|zsh|fish` (the bash script's function called as bash calls it, with
 * COMP_WORDS/COMP_CWORD set: commands, flags, live names of the store; zsh and fish parse it, fish
 * completes with it), the man page and the Debian package's files, the client config's psFormat,
 * imagesFormat and detachKeys (DOCKER_CONFIG or ~/.docker), `generate systemd` and `system autostart`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isRootless, REPO, SKIFF_BIN, skiff, storeWithImage, until, type TempStore } from '../helpers/fixtures.js';
import { buildDeb, haveDist } from '../helpers/deb.js';
import { Terminal } from '../helpers/terminal.js';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('completion, man page, client config, systemd', () => {
  let store: TempStore;
  let image: string;
  let tmp: string;
  before(async () => {
    ({ store, image } = await storeWithImage());
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-completion-'));
  });
  after(async () => {
    await store?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });
  const ok = async (args: string[], o: { env?: Record<string, string>; cwd?: string } = {}): Promise<string> => {
    const r = await skiff(args, { store, ...o });
    assert.equal(r.code, 0, `skiff ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const inspect = async (name: string): Promise<{ Id: string; State: { Status: string; Running: boolean; Pid: number } }> =>
    (JSON.parse(await ok(['inspect', name])) as { Id: string; State: { Status: string; Running: boolean; Pid: number } }[])[0]!;

  /** What the bash script offers for the words after `skiff` (the last one being completed). */
  const bashComplete = (script: string, words: string[]): string[] => {
    const all = [SKIFF_BIN, ...words];
    const prog = [
      `source ${script}`,
      `COMP_WORDS=(${all.map((w) => `'${w}'`).join(' ')})`,
      `COMP_CWORD=${all.length - 1}`,
      '_skiff',
      `printf '%s\\n' "\${COMPREPLY[@]}"`,
    ].join('\n');
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', prog], { env: { ...process.env, ...store.env }, encoding: 'utf8', cwd: tmp });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    return r.stdout.split('\n').filter(Boolean);
  };

  /** The same through COMP_LINE, as bash calls it: its COMP_WORDS split at `=` and `:` too. */
  const bashLine = (script: string, typed: string): string[] => {
    const line = `${SKIFF_BIN} ${typed}`;
    const ws = line.split(/\s+/);
    const words = ws.flatMap((w, i) => (w === '' && i === ws.length - 1 ? [''] : w.split(/([=:])/).filter(Boolean)));
    const prog = [
      `source ${script}`,
      `COMP_LINE='${line}'`,
      `COMP_POINT=${line.length}`,
      `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
      `COMP_CWORD=${words.length - 1}`,
      '_skiff',
      `printf '%s\\n' "\${COMPREPLY[@]}"`,
    ].join('\n');
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', prog], { env: { ...process.env, ...store.env }, encoding: 'utf8', cwd: tmp });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  };

  test('completion bash: commands, subcommands, flags, choices and live names of containers, images, networks, volumes', async () => {
    const script = path.join(tmp, 'skiff.bash');
    fs.writeFileSync(script, await ok(['completion', 'bash']));
    assert.equal(spawnSync('bash', ['-n', script]).status, 0);
    await ok(['run', '-d', '--name', 'web-one', image, 'sleep', '300']);
    await ok(['create', '--name', 'web-two', image, 'true']);
    await ok(['volume', 'create', 'vol-data']);
    await ok(['network', 'create', 'net-front']);

    assert.deepEqual(bashComplete(script, ['conta']), ['container']);
    assert.ok(bashComplete(script, ['']).includes('run') && bashComplete(script, ['']).includes('network'));
    assert.deepEqual(bashComplete(script, ['container', 'ru']), ['run']);
    assert.deepEqual(bashComplete(script, ['network', 'c']), ['connect', 'create']);
    assert.deepEqual(bashComplete(script, ['generate', '']), ['kube', 'systemd']);
    assert.deepEqual(bashComplete(script, ['run', '--rm', '--resta']), ['--restart']);
    assert.deepEqual(bashComplete(script, ['ps', '-']).filter((w) => ['-a', '--all', '--format', '--help'].includes(w)).sort(), ['--all', '--format', '--help', '-a']);
    assert.deepEqual(bashComplete(script, ['generate', 'systemd', '--restart-policy', 'on-a']), ['on-abnormal', 'on-abort']);
    // live names from the store
    assert.deepEqual(bashComplete(script, ['stop', 'web']), ['web-one', 'web-two']);
    assert.deepEqual(bashComplete(script, ['container', 'inspect', '-f', '{{.Id}}', 'web-t']), ['web-two']);
    assert.deepEqual(bashComplete(script, ['volume', 'rm', 'vol']), ['vol-data']);
    assert.deepEqual(bashComplete(script, ['network', 'connect', 'net-']), ['net-front']);
    assert.deepEqual(bashComplete(script, ['network', 'connect', 'net-front', 'web-o']), ['web-one']);
    assert.deepEqual(bashComplete(script, ['run', '--network', 'net']), ['net-front']);
    assert.deepEqual(bashComplete(script, ['rmi', image.split('/')[0]!]), [image]);
    assert.deepEqual(bashComplete(script, ['run', '-d', image.split('/')[0]!]), [image]);
    // as bash splits the line: an image reference's `:`, a flag's `=`: candidates replace bash's last piece
    const [host] = image.split(':');
    assert.deepEqual(bashLine(script, `rmi ${host}:`), [image.slice(host!.length)]);
    assert.deepEqual(bashLine(script, 'run --network=net-'), ['net-front']);
    assert.deepEqual(bashLine(script, 'run --network='), ['=bridge', '=host', '=net-front', '=none']);
    assert.deepEqual(bashLine(script, 'network conn'), ['connect']);
    assert.deepEqual(bashLine(script, 'stop '), ['web-one', 'web-two']);
    // file names where a path fits: the container's command, cp's arguments; none where only names do
    fs.writeFileSync(path.join(tmp, 'notes.txt'), '');
    assert.deepEqual(bashComplete(script, ['run', image, 'note']), ['notes.txt']);
    assert.deepEqual(bashComplete(script, ['cp', 'note']), ['notes.txt']);
    assert.deepEqual(bashComplete(script, ['stop', 'note']), []);
    // skiff's own --root before the command: the names of that store
    const other = path.join(tmp, 'other-store');
    const names = bashComplete(script, ['--root', other, 'rm', 'web']);
    assert.deepEqual(names, []);
    assert.equal((await skiff(['rm', '-f', 'web-one', 'web-two'], { store })).code, 0);
  });

  test('completion zsh and fish parse; fish completes with it; an unknown shell is refused', async () => {
    const zsh = await ok(['completion', 'zsh']);
    assert.match(zsh, /^#compdef skiff\n/);
    const fish = await ok(['completion', 'fish']);
    if (has('zsh')) {
      fs.writeFileSync(path.join(tmp, '_skiff'), zsh);
      const r = spawnSync('zsh', ['-n', path.join(tmp, '_skiff')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    if (has('fish')) {
      const file = path.join(tmp, 'skiff.fish');
      fs.writeFileSync(file, fish);
      assert.equal(spawnSync('fish', ['-n', file]).status, 0);
      await ok(['create', '--name', 'fishy', image, 'true']);
      const r = spawnSync('fish', ['--no-config', '-c', `source ${file}; complete -C 'skiff conta'; complete -C 'skiff start fi'`], {
        env: { ...process.env, ...store.env, SKIFF_COMPLETE_BIN: SKIFF_BIN, HOME: tmp, XDG_CONFIG_HOME: tmp, XDG_DATA_HOME: tmp },
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'container\tManage containers\nfishy\n');
      assert.equal((await skiff(['rm', 'fishy'], { store })).code, 0);
    }
    const bad = await skiff(['completion', 'tcsh'], { store });
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'Error: unsupported shell type "tcsh": choose bash, zsh or fish\n');
    const none = await skiff(['completion'], { store });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^Error: 'skiff completion' requires 1 argument/);
  });

  test('the man page has every command with its flags and defaults; the Debian package ships it, the completions and the units', { skip: isRootless() && 'the package is built as root' }, async () => {
    const man = path.join(tmp, 'skiff.1');
    execFileSync('node', [path.join(REPO, 'scripts/make-man.mjs'), man]);
    const page = fs.readFileSync(man, 'utf8');
    assert.match(page, /^\.TH SKIFF 1 /m);
    for (const line of ['skiff container run', 'skiff completion', 'skiff generate systemd', 'skiff system autostart', 'skiff image ls']) assert.ok(page.includes(`.SS "${line.replace(/-/g, '\\-')}"`), line);
    const text = execFileSync('man', ['-l', man], { env: { ...process.env, LANG: 'C', LC_ALL: 'C', MANWIDTH: '100' }, encoding: 'utf8' });
    // words whole (no hyphenation), wherever the lines break
    assert.ok(text.replace(/\s+/g, ' ').includes('--restart-policy string Systemd restart-policy (no, on-success, on-failure, on-abnormal, on-watchdog, on-abort, always) (default "on-failure")'), text);
    const warn = spawnSync('groff', ['-man', '-ww', '-z', man], { encoding: 'utf8' });
    assert.equal(warn.stderr, '');
    if (!haveDist()) return; // `make dist` not run: no package to make
    const { deb } = buildDeb(path.join(tmp, 'pkg'));
    const contents = execFileSync('dpkg-deb', ['--contents', deb], { encoding: 'utf8' });
    for (const f of [
      './usr/bin/skiff',
      './usr/share/man/man1/skiff.1.gz',
      './usr/share/bash-completion/completions/skiff',
      './usr/share/zsh/vendor-completions/_skiff',
      './usr/share/fish/vendor_completions.d/skiff.fish',
      './lib/systemd/system/skiff-restart.service',
      './usr/lib/systemd/user/skiff-restart.service',
    ]) {
      assert.ok(contents.split('\n').some((l) => l.endsWith(` ${f}`)), `${f} in the package:\n${contents}`);
    }
    const x = path.join(tmp, 'x');
    execFileSync('dpkg-deb', ['-x', deb, x]);
    assert.equal(fs.readFileSync(path.join(x, 'usr/share/bash-completion/completions/skiff'), 'utf8'), await ok(['completion', 'bash']));
    assert.match(fs.readFileSync(path.join(x, 'lib/systemd/system/skiff-restart.service'), 'utf8'), /^ExecStart=\/usr\/bin\/skiff system autostart$/m);
    const ctl = path.join(tmp, 'ctl');
    execFileSync('dpkg-deb', ['-e', deb, ctl]);
    assert.match(fs.readFileSync(path.join(ctl, 'postinst'), 'utf8'), /deb-systemd-helper enable skiff-restart\.service/);
    assert.match(fs.readFileSync(path.join(ctl, 'postrm'), 'utf8'), /deb-systemd-helper purge skiff-restart\.service/);
  });

  test('config.json psFormat and imagesFormat (DOCKER_CONFIG, else ~/.docker) apply without --format; --format and -q win', async () => {
    await ok(['run', '-d', '--name', 'fmt-c', image, 'sleep', '300']);
    const cfgDir = store.env.DOCKER_CONFIG!;
    fs.mkdirSync(cfgDir, { recursive: true });
    fs.writeFileSync(path.join(cfgDir, 'config.json'), JSON.stringify({ psFormat: 'PS {{.Names}} {{.State}}', imagesFormat: 'IMG {{.Repository}}:{{.Tag}}' }));
    // the plain listing too (bin/skiff's native fast path hands it to the CLI)
    assert.equal(await ok(['ps']), 'PS fmt-c running\n');
    assert.equal(await ok(['container', 'ls', '-a']), 'PS fmt-c running\n');
    assert.equal(await ok(['ps', '--format', '{{.Names}}']), 'fmt-c\n');
    assert.match(await ok(['ps', '-q']), /^[0-9a-f]{12}\n$/);
    assert.equal(await ok(['images']), `IMG ${image}\n`);
    assert.equal(await ok(['images', '--format', '{{.Tag}}']), `${image.split(':').pop()}\n`);
    assert.match(await ok(['images', '-q']), /^[0-9a-f]{12}\n$/);
    // no DOCKER_CONFIG: ~/.docker/config.json
    const home = path.join(tmp, 'home');
    fs.mkdirSync(path.join(home, '.docker'), { recursive: true });
    fs.writeFileSync(path.join(home, '.docker/config.json'), JSON.stringify({ psFormat: 'HOME {{.Names}}' }));
    assert.equal(await ok(['ps'], { env: { DOCKER_CONFIG: '', HOME: home } }), 'HOME fmt-c\n');
    // --config DIR names the directory
    assert.equal(await ok(['--config', path.join(home, '.docker'), 'ps', '--no-trunc']), 'HOME fmt-c\n');
    // a config without the keys (or not JSON) changes nothing: Docker's table
    fs.writeFileSync(path.join(cfgDir, 'config.json'), '{"auths": {}}');
    assert.match(await ok(['ps']), /^CONTAINER ID +IMAGE +COMMAND/);
    fs.writeFileSync(path.join(cfgDir, 'config.json'), '{ not json');
    assert.match(await ok(['images']), /^REPOSITORY +TAG/);
    fs.rmSync(path.join(cfgDir, 'config.json'));
    assert.equal((await skiff(['rm', '-f', 'fmt-c'], { store })).code, 0);
  });

  test('config.json detachKeys: attach detaches with them; --detach-keys wins', async () => {
    await ok(['run', '-d', '-it', '--name', 'dk', image, 'sh']);
    const cfgDir = store.env.DOCKER_CONFIG!;
    fs.mkdirSync(cfgDir, { recursive: true });
    fs.writeFileSync(path.join(cfgDir, 'config.json'), JSON.stringify({ detachKeys: 'ctrl-x,e' }));
    const t = new Terminal([SKIFF_BIN, 'attach', 'dk'], { env: store.env });
    t.type('echo mark-$((6*7))\r');
    await t.waitFor(/mark-42\n/);
    t.type('\x18e');
    // Docker's attach reports a detach as its error: `read escape sequence`, exit 1
    assert.equal((await t.exited).code, 1, t.output);
    assert.match(t.output, /read escape sequence\n/);
    assert.equal((await inspect('dk')).State.Status, 'running');
    // the flag over the file
    const t2 = new Terminal([SKIFF_BIN, 'attach', '--detach-keys', 'ctrl-y', 'dk'], { env: store.env });
    t2.type('echo mark-$((7*7))\r');
    await t2.waitFor(/mark-49\n/);
    t2.type('\x19');
    assert.equal((await t2.exited).code, 1, t2.output);
    assert.equal((await inspect('dk')).State.Status, 'running');
    fs.writeFileSync(path.join(cfgDir, 'config.json'), JSON.stringify({ detachKeys: 'ctrl-' }));
    const bad = await skiff(['attach', 'dk'], { store });
    assert.equal(bad.code, 125);
    assert.equal(bad.stderr, 'Error: Invalid detach keys (ctrl-) provided\n');
    fs.rmSync(path.join(cfgDir, 'config.json'));
    assert.equal((await skiff(['rm', '-f', 'dk'], { store })).code, 0);
  });

  test('generate systemd: a unit that starts and stops the container; --name, --restart-policy, --time, --files', async () => {
    await ok(['create', '--name', 'unit-c', '--stop-timeout', '7', image, 'sleep', '300']);
    const id = (await inspect('unit-c')).Id;
    const unit = await ok(['generate', 'systemd', 'unit-c']);
    const exe = SKIFF_BIN;
    const root = ` --root ${store.root}`;
    assert.match(unit, new RegExp(`^# container-${id}\\.service\\n`));
    assert.ok(unit.includes(`\n[Service]\nEnvironment=SKIFF_RUNROOT=${store.runroot}\nRestart=on-failure\nTimeoutStopSec=67\n`), unit);
    assert.ok(unit.includes(`\nExecStart=${exe}${root} start ${id}\nExecStop=${exe}${root} stop -t 7 ${id}\n`), unit);
    assert.ok(unit.includes('\nType=forking\n\n[Install]\nWantedBy=default.target\n'), unit);
    const named = await ok(['generate', 'systemd', '--name', '--restart-policy', 'always', '-t', '3', '--no-header', 'unit-c']);
    assert.match(named, /^\[Unit\]\nDescription=skiff container-unit-c\.service\n/);
    assert.ok(named.includes('\nRestart=always\nTimeoutStopSec=63\n'));
    assert.ok(named.includes(`\nExecStop=${exe}${root} stop -t 3 unit-c\n`));
    const cwd = path.join(tmp, 'units');
    fs.mkdirSync(cwd);
    const printed = await ok(['generate', 'systemd', '-n', '-f', '--container-prefix', 'app', '--separator', '_', 'unit-c'], { cwd });
    assert.equal(printed, `${path.join(cwd, 'app_unit-c.service')}\n`);
    assert.match(fs.readFileSync(path.join(cwd, 'app_unit-c.service'), 'utf8'), /^ExecStart=.* start unit-c$/m);
    // the unit's commands do what it says (systemd itself is not needed for that)
    const start = /^ExecStart=(.*)$/m.exec(named)![1]!.split(' ');
    assert.equal(execFileSync(start[0]!, start.slice(1), { env: { ...process.env, ...store.env }, encoding: 'utf8' }), 'unit-c\n');
    assert.equal((await inspect('unit-c')).State.Status, 'running');
    const stop = /^ExecStop=(.*)$/m.exec(named)![1]!.split(' ');
    execFileSync(stop[0]!, stop.slice(1), { env: { ...process.env, ...store.env } });
    assert.equal((await inspect('unit-c')).State.Status, 'exited');
    const bad = await skiff(['generate', 'systemd', '--restart-policy', 'sometimes', 'unit-c'], { store });
    assert.equal(bad.code, 125);
    const missing = await skiff(['generate', 'systemd', 'no-such'], { store });
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'Error: No such container: no-such\n');
    assert.equal((await skiff(['rm', '-f', 'unit-c'], { store })).code, 0);
  });

  test('generate systemd --new: a unit that runs a fresh container from the create command line and removes it on stop', async () => {
    const args = ['run', '-dit', '--rm=true', '--name', 'unit-new', '-e', 'A=1', '--cidfile', path.join(tmp, 'orig.cid'), image, 'sleep', '300'];
    await ok(args);
    const created = (JSON.parse(await ok(['inspect', 'unit-new'])) as { Config: { CreateCommand: string[] } }[])[0]!.Config.CreateCommand;
    assert.equal(created[0], 'skiff');
    assert.deepEqual(created.slice(created.indexOf('run')), args);
    const unit = await ok(['generate', 'systemd', '--new', '--name', '-t', '2', 'unit-new']);
    const exe = `${SKIFF_BIN} --root ${store.root}`;
    const cid = '%t/%n.ctr-id';
    // -d of -dit, --rm=true and --cidfile X left out, the other options as the parser read them
    assert.ok(unit.includes(`\nExecStartPre=/bin/rm -f ${cid}\nExecStart=${exe} run --cidfile=${cid} --rm --replace -d --interactive --tty --name=unit-new --env=A=1 ${image} sleep 300\n`), unit);
    assert.ok(unit.includes(`\nExecStop=${exe} stop --ignore -t 2 --cidfile=${cid}\nExecStopPost=${exe} rm -f --ignore -t 2 --cidfile=${cid}\nType=forking\n`), unit);
    // the unit's lines run by hand as systemd would, %t and %n substituted
    const runDir = fs.mkdtempSync(path.join(tmp, 'run-'));
    const cidFile = path.join(runDir, 'container-unit-new.service.ctr-id');
    const exec = (key: string): void => {
      const line = new RegExp(`^${key}=(.*)$`, 'm').exec(unit)![1]!.replaceAll('%t', runDir).replaceAll('%n', 'container-unit-new.service').split(' ');
      execFileSync(line[0]!, line.slice(1), { env: { ...process.env, ...store.env }, stdio: 'pipe' });
    };
    const named = async (): Promise<string[]> => (await ok(['ps', '-a', '-q', '--no-trunc', '--filter', 'name=^unit-new$'])).split('\n').filter(Boolean);
    const first = (await inspect('unit-new')).Id;
    exec('ExecStartPre');
    exec('ExecStart');
    const [started] = await named();
    assert.notEqual(started, first);
    assert.equal(fs.readFileSync(cidFile, 'utf8'), started);
    assert.equal((await inspect('unit-new')).State.Status, 'running');
    // started again: the container of that name is replaced, one container remains
    exec('ExecStartPre');
    exec('ExecStart');
    const again = await named();
    assert.equal(again.length, 1);
    assert.notEqual(again[0], started);
    assert.equal(fs.readFileSync(cidFile, 'utf8'), again[0]);
    exec('ExecStop');
    exec('ExecStopPost');
    await until('the container of the unit to be removed', async () => (await named()).length === 0);
    // a missing cidfile is fine with --ignore, an error without it
    fs.rmSync(cidFile, { force: true });
    exec('ExecStop');
    exec('ExecStopPost');
    const bad = await skiff(['stop', '--cidfile', cidFile], { store });
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: reading CIDFile: .*\n$/);
    // a container made otherwise (compose) has no create command
    const yaml = path.join(tmp, 'gen-new.yaml');
    fs.writeFileSync(yaml, `services:\n  s:\n    image: ${image}\n    command: sleep 300\n`);
    await ok(['compose', '-f', yaml, '-p', 'gennew', 'create']);
    const c = await inspect('gennew-s-1');
    const refused = await skiff(['generate', 'systemd', '--new', 'gennew-s-1'], { store });
    assert.equal(refused.code, 125);
    assert.equal(refused.stderr, `Error: cannot use --new on container "${c.Id}": no create command found: only works on containers created directly with skiff run or create, not via the API or compose\n`);
    await ok(['compose', '-f', yaml, '-p', 'gennew', 'down']);
  });

  test('system autostart starts what Docker restarts at boot: always (even stopped by the user), unless-stopped not stopped by the user', async () => {
    const monitorPid = (id: string): number =>
      (JSON.parse(fs.readFileSync(path.join(store.root, 'containers', id, 'monitor.json'), 'utf8')) as { monitorPid: number }).monitorPid;
    const crash = async (name: string): Promise<void> => {
      // as a reboot: the monitor and the container end without anyone stopping them
      const j = await inspect(name);
      const mon = monitorPid(j.Id);
      process.kill(mon, 'SIGKILL');
      await until(`${name} to end with its monitor`, () => !alive(mon) && !alive(j.State.Pid));
    };
    await ok(['run', '-d', '--name', 'as-always', '--restart', 'always', image, 'sleep', '300']);
    await ok(['stop', '-t', '1', 'as-always']);
    await ok(['run', '-d', '--name', 'as-unless-stopped', '--restart', 'unless-stopped', image, 'sleep', '300']);
    await ok(['stop', '-t', '1', 'as-unless-stopped']);
    await ok(['run', '-d', '--name', 'as-unless-crashed', '--restart', 'unless-stopped', image, 'sleep', '300']);
    await crash('as-unless-crashed');
    await ok(['run', '-d', '--name', 'as-always-crashed', '--restart', 'always', image, 'sleep', '300']);
    await crash('as-always-crashed');
    await ok(['run', '-d', '--name', 'as-no', image, 'sleep', '300']);
    await crash('as-no');
    await ok(['run', '-d', '--name', 'as-on-failure', '--restart', 'on-failure', image, 'sleep', '300']);
    await ok(['stop', '-t', '1', 'as-on-failure']);
    await ok(['create', '--name', 'as-never-started', '--restart', 'always', image, 'sleep', '300']);
    await ok(['run', '-d', '--name', 'as-running', '--restart', 'always', image, 'sleep', '300']);
    assert.equal((await inspect('as-unless-crashed')).State.Status, 'exited');

    assert.equal(await ok(['system', 'autostart']), 'as-always\nas-unless-crashed\nas-always-crashed\n');
    const status = async (n: string): Promise<string> => (await inspect(n)).State.Status;
    for (const n of ['as-always', 'as-unless-crashed', 'as-always-crashed', 'as-running']) assert.equal(await status(n), 'running', n);
    for (const n of ['as-unless-stopped', 'as-no', 'as-on-failure']) assert.equal(await status(n), 'exited', n);
    assert.equal(await status('as-never-started'), 'created');
    // again: nothing left to start
    assert.equal(await ok(['system', 'autostart']), '');
    const all = ['as-always', 'as-unless-stopped', 'as-unless-crashed', 'as-always-crashed', 'as-no', 'as-on-failure', 'as-never-started', 'as-running'];
    assert.equal((await skiff(['rm', '-f', ...all], { store })).code, 0);
  });
});
