/**
 * `build` for CI pipelines through the CLI binary: secrets and SSH agents for RUN steps, outputs
 * (-o, --iidfile, --metadata-file), on the fixture busybox image. Runs rootful and rootless.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSuite } from '../helpers/build.js';
import { registry, until } from '../helpers/fixtures.js';

/** Files under `dir` whose bytes contain `needle` (and how many files could not be read at all). */
function filesContaining(dir: string, needle: string): { found: string[]; unreadable: number; read: number } {
  const out = { found: [] as string[], unreadable: 0, read: 0 };
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      out.unreadable++;
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        try {
          if (fs.readFileSync(p).includes(needle)) out.found.push(p);
          out.read++;
        } catch {
          out.unreadable++;
        }
      }
    }
  };
  walk(dir);
  return out;
}

describe('build for CI', () => {
  const b = buildSuite('skiff-ci-ctx-');
  const { ctx, sk } = b;

  test('--secret: RUN sees it as a file and a variable; it is in no layer, history, cache entry, log or inspect', async () => {
    const value = `s3cr3t-${crypto.randomBytes(12).toString('hex')}`;
    const envValue = `envs3cr3t-${crypto.randomBytes(12).toString('hex')}`;
    const dir = ctx({
      'Dockerfile': `FROM ${b.busybox}
RUN --mount=type=secret,id=tok sha256sum /run/secrets/tok | cut -d' ' -f1 > /tok-sum && ls -ln /run/secrets/tok | cut -c1-10 > /tok-mode
RUN --mount=type=secret,id=tok,target=/etc/app/key,mode=0440,uid=7,gid=8 ls -ln /etc/app/key | awk '{print $1, $3, $4}' > /key-info
RUN --mount=type=secret,id=api,env=API_TOKEN sh -c 'echo -n "$API_TOKEN" | wc -c > /api-size; test ! -e /run/secrets/api'
RUN --mount=type=secret,id=absent echo optional secret skipped > /absent
`,
      'secret.txt': value,
    });
    fs.writeFileSync(path.join(dir, 'secret.txt'), value);
    const r = await sk(['build', '-t', 'ci/secret', '--secret', `id=tok,src=${path.join(dir, 'secret.txt')}`, '--secret', 'id=api,env=CI_API_TOKEN', dir], { CI_API_TOKEN: envValue });
    assert.equal(r.code, 0, r.stderr);
    const show = await sk(['run', '--rm', 'ci/secret', 'sh', '-c', 'cat /tok-sum /tok-mode /key-info /api-size /absent; test -e /run/secrets || echo no /run/secrets; test -e /etc/app || echo no /etc/app']);
    assert.equal(show.code, 0, show.stderr);
    assert.equal(show.stdout, `${crypto.createHash('sha256').update(value).digest('hex')}\n-r--------\n-r--r----- 7 8\n${envValue.length}\noptional secret skipped\nno /run/secrets\nno /etc/app\n`);
    for (const s of [value, envValue]) {
      assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), 'secret in the build log');
      for (const cmd of [['history', '--no-trunc', 'ci/secret'], ['image', 'inspect', 'ci/secret']]) {
        const o = await sk(cmd);
        assert.equal(o.code, 0, o.stderr);
        assert.ok(!o.stdout.includes(s), `secret in ${cmd.join(' ')}`);
      }
      for (const d of [b.store.root, b.store.runroot]) {
        const g = filesContaining(d, s);
        assert.deepEqual(g.found, [], `secret stored in ${g.found.join(', ')}`);
        assert.ok(g.read > 0);
      }
    }
    // the key holds the secret's id, not its bytes: another value is the same step (as BuildKit)
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'other');
    const again = await sk(['build', '-q', '--secret', `id=tok,src=${path.join(dir, 'secret.txt')}`, '--secret', 'id=api,env=CI_API_TOKEN', dir], { CI_API_TOKEN: 'x' });
    assert.equal(again.code, 0, again.stderr);
    const id = (await sk(['image', 'inspect', '--format', '{{.Id}}', 'ci/secret'])).stdout.trim();
    assert.equal(again.stdout.trim(), id);
  });

  test('--secret faults: a required secret not given, a file that is missing, one line each and no image', async () => {
    const dir = ctx({ 'Dockerfile': `FROM ${b.busybox}\nRUN echo before > /b\nRUN --mount=type=secret,id=need,required=true cat /run/secrets/need\n` });
    const r = await sk(['build', '-t', 'ci/needsecret', dir]);
    assert.equal(r.code, 1, r.stderr);
    const errs = r.stderr.split('\n').filter((l) => l.startsWith('Error:'));
    assert.equal(errs.length, 1, r.stderr);
    assert.match(errs[0]!, /Dockerfile:3: RUN: secret "need" is required but was not given: pass --secret id=need,src=FILE$/);
    assert.notEqual((await sk(['image', 'inspect', 'ci/needsecret'])).code, 0);
    const missing = path.join(dir, 'no-such-file');
    const m = await sk(['build', '-t', 'ci/needsecret', '--secret', `id=need,src=${missing}`, dir]);
    assert.equal(m.code, 125, m.stderr);
    assert.equal(m.stderr, `Error: secret "need": cannot read ${missing}: no such file\n`);
    const bad = await sk(['build', '--secret', 'id=x,bogus=1', dir]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: invalid --secret id=x,bogus=1: unexpected key "bogus"/);
    assert.notEqual((await sk(['image', 'inspect', 'ci/needsecret'])).code, 0);
  });

  test('--ssh: a local ssh-agent, or key files in an agent of the build\'s own, reachable in the step that mounts it (ssh-add -l), and not after', async () => {
    const agentDir = ctx({});
    const sock = path.join(agentDir, 'agent.sock');
    const agent = spawnSync('ssh-agent', ['-a', sock, '-s'], { encoding: 'utf8' });
    assert.equal(agent.status, 0, agent.stderr);
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)![1]);
    try {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'skiff-ci-test-key', '-f', path.join(agentDir, 'key')]);
      execFileSync('ssh-add', [path.join(agentDir, 'key')], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      // the host's ssh-add and the libraries it needs, into the image
      const files = ['/usr/bin/ssh-add', ...execFileSync('ldd', ['/usr/bin/ssh-add'], { encoding: 'utf8' }).split('\n').map((l) => /(\/\S+) \(0x/.exec(l)?.[1]).filter((p): p is string => !!p)];
      const dir = ctx({
        'Dockerfile': `FROM ${b.busybox}
COPY sshroot/ /
RUN --mount=type=ssh ssh-add -l > /keys-default && echo "$SSH_AUTH_SOCK" > /sock
RUN --mount=type=ssh,id=work,target=/agent,required=true SSH_AUTH_SOCK=/agent ssh-add -l > /keys-work
RUN ls -a /run/buildkit 2>&1 > /after; echo "$SSH_AUTH_SOCK" >> /after; test ! -e /agent
`,
      });
      for (const f of files) {
        const to = path.join(dir, 'sshroot', f);
        fs.mkdirSync(path.dirname(to), { recursive: true });
        fs.copyFileSync(fs.realpathSync(f), to);
        fs.chmodSync(to, 0o755);
      }
      const r = await sk(['build', '-t', 'ci/ssh', '--ssh', 'default', '--ssh', `work=${sock}`, dir], { SSH_AUTH_SOCK: sock });
      assert.equal(r.code, 0, r.stderr);
      const show = await sk(['run', '--rm', 'ci/ssh', 'sh', '-c', 'cat /keys-default /sock /keys-work /after; test ! -e /run/buildkit/ssh_agent.0']);
      assert.equal(show.code, 0, show.stderr + show.stdout);
      const lines = show.stdout.split('\n');
      assert.match(lines[0]!, /^256 SHA256:\S+ skiff-ci-test-key \(ED25519\)$/);
      assert.equal(lines[1], '/run/buildkit/ssh_agent.0');
      assert.equal(lines[2], lines[0]);
      assert.match(show.stdout, /\n\n$/); // no SSH_AUTH_SOCK in the step that did not mount it
      // a required agent that was not given fails that step clearly
      fs.writeFileSync(path.join(dir, 'Dockerfile.req'), `FROM ${b.busybox}\nRUN --mount=type=ssh,id=work,required=true true\n`);
      const noAgent = await sk(['build', '-f', path.join(dir, 'Dockerfile.req'), dir]);
      assert.equal(noAgent.code, 1);
      assert.match(noAgent.stderr, /\nError: .*Dockerfile.req:2: RUN: ssh agent "work" is required but was not given: pass --ssh work=SOCKET/);
      // key files: loaded into an ssh-agent of the build's own, which is gone when the build ends
      const key = path.join(agentDir, 'key');
      fs.writeFileSync(path.join(dir, 'Dockerfile.key'), `FROM ${b.busybox}\nCOPY sshroot/ /\nRUN --mount=type=ssh,id=keyed ssh-add -l > /keys-file\n`);
      const tmp = ctx({});
      const agentsIn = (): number[] => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(tmp);
        } catch {
          return false;
        }
      }).map(Number);
      const keyed = await sk(['build', '-t', 'ci/sshkey', '-f', path.join(dir, 'Dockerfile.key'), '--ssh', `keyed=${key}`, dir], { TMPDIR: tmp });
      assert.equal(keyed.code, 0, keyed.stderr);
      assert.equal((await sk(['run', '--rm', 'ci/sshkey', 'cat', '/keys-file'])).stdout, `${lines[0]}\n`);
      assert.deepEqual(fs.readdirSync(tmp), []);
      await until('the build\'s ssh-agent to exit', () => agentsIn().length === 0 || undefined);
      // a key with a passphrase, a path that is neither, a socket with keys: one line each, nothing left
      const locked = path.join(agentDir, 'locked');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret', '-f', locked]);
      const pw = await sk(['build', '--ssh', `x=${locked}`, dir], { TMPDIR: tmp });
      assert.equal(pw.code, 125);
      assert.equal(pw.stderr, `Error: --ssh x: cannot load key ${locked} into an agent: the key is protected by a passphrase: add it to your ssh-agent with ssh-add and pass the agent (--ssh ID or ID=SOCKET)\n`);
      assert.deepEqual(fs.readdirSync(tmp), []);
      await until('the failed build\'s ssh-agent to exit', () => agentsIn().length === 0 || undefined);
      const none = await sk(['build', '--ssh', `default=${path.join(agentDir, 'nothing')}`, dir]);
      assert.equal(none.code, 125);
      assert.equal(none.stderr, `Error: --ssh default=${path.join(agentDir, 'nothing')}: ${path.join(agentDir, 'nothing')}: no such socket or key file\n`);
      const both = await sk(['build', '--ssh', `default=${sock},${key}`, dir]);
      assert.equal(both.code, 125);
      assert.equal(both.stderr, `Error: invalid --ssh default=${sock},${key}: give one agent socket or key files, not both\n`);
    } finally {
      process.kill(pid, 'SIGTERM');
    }
  });

  test('-o type=local|tar|oci, -o DIR, --iidfile, --metadata-file: the final stage\'s filesystem and image', async () => {
    const dir = ctx({
      'Dockerfile': `FROM ${b.busybox} AS b
RUN mkdir /out && echo hello > /out/hello && ln -s hello /out/link
FROM scratch
COPY --from=b /bin/busybox /bin/busybox
COPY --from=b /out/ /data/
`,
    });
    const out = ctx({});
    fs.mkdirSync(path.join(out, 'local'));
    fs.writeFileSync(path.join(out, 'local', 'kept'), 'kept');
    const r = await sk(['build', '-t', 'ci/out', '-o', `type=local,dest=${out}/local`, '-o', `${out}/short`, '-o', `type=tar,dest=${out}/fs.tar`,
      '-o', `type=oci,dest=${out}/img.tar`, '--iidfile', `${out}/iid`, '--metadata-file', `${out}/meta.json`, dir]);
    assert.equal(r.code, 0, r.stderr);
    const id = (await sk(['image', 'inspect', '--format', '{{.Id}}', 'ci/out'])).stdout.trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(fs.readFileSync(`${out}/iid`, 'utf8'), id);
    const meta = JSON.parse(fs.readFileSync(`${out}/meta.json`, 'utf8')) as Record<string, string>;
    assert.equal(meta['containerimage.config.digest'], id);
    assert.equal(meta['image.name'], 'docker.io/ci/out:latest');
    // the files the image has, as the image itself shows them
    const inImage = await sk(['run', '--rm', 'ci/out', '/bin/busybox', 'sh', '-c', 'cd / && /bin/busybox sha256sum bin/busybox data/hello && /bin/busybox readlink data/link']);
    assert.equal(inImage.code, 0, inImage.stderr);
    const sha = (p: string): string => crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    for (const d of [`${out}/local`, `${out}/short`]) {
      const listing = execFileSync('find', ['.', '-mindepth', '1'], { cwd: d, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
      assert.deepEqual(listing, ['./bin', './bin/busybox', './data', './data/hello', './data/link', ...(d.endsWith('local') ? ['./kept'] : [])]);
      assert.equal(`${sha(`${d}/bin/busybox`)}  bin/busybox\n${sha(`${d}/data/hello`)}  data/hello\n${fs.readlinkSync(`${d}/data/link`)}\n`, inImage.stdout);
    }
    const tarList = execFileSync('tar', ['-tf', `${out}/fs.tar`], { encoding: 'utf8' }).split('\n').filter(Boolean).map((n) => n.replace(/\/$/, '')).sort();
    assert.deepEqual(tarList, ['bin', 'bin/busybox', 'data', 'data/hello', 'data/link']);
    const x = fs.mkdtempSync(path.join(out, 'x-'));
    execFileSync('tar', ['-xf', `${out}/fs.tar`, '-C', x, 'bin/busybox']);
    assert.equal(sha(`${x}/bin/busybox`), sha(`${out}/local/bin/busybox`));
    // the OCI archive, read by an independent tool
    const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci-archive:${out}/img.tar`], { encoding: 'utf8' })) as { config: { digest: string } };
    assert.equal(raw.config.digest, id);
    assert.deepEqual(fs.readdirSync(out).filter((n) => n.startsWith('.')), [], 'temporary files left');
  });

  test('--push and -o type=image,push=true: the image in the registry, --metadata-file names its digest', async () => {
    const dir = ctx({ 'Dockerfile': `FROM ${b.busybox}\nRUN echo pushed-${crypto.randomBytes(4).toString('hex')} > /p\n` });
    const out = ctx({});
    const ref = `${registry()}/ci/pushed:1`;
    const r = await sk(['build', '-t', ref, '--push', '--metadata-file', `${out}/meta.json`, dir]);
    assert.equal(r.code, 0, r.stderr);
    const meta = JSON.parse(fs.readFileSync(`${out}/meta.json`, 'utf8')) as Record<string, string>;
    const remote = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' })) as { Digest: string };
    assert.equal(meta['containerimage.digest'], remote.Digest);
    const cfg = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' })) as { config: { digest: string } };
    assert.equal(cfg.config.digest, meta['containerimage.config.digest']);
    const ref2 = `${registry()}/ci/pushed:2`;
    const r2 = await sk(['build', '-q', '-o', `type=image,name=${ref2},push=true`, dir]);
    assert.equal(r2.code, 0, r2.stderr);
    const cfg2 = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref2}`], { encoding: 'utf8' })) as { config: { digest: string } };
    assert.equal(cfg2.config.digest, r2.stdout.trim());
    const noName = await sk(['build', '--push', dir]);
    assert.equal(noName.code, 125);
    assert.equal(noName.stderr, 'Error: --push needs a name for the image: give -t NAME (or -o type=image,name=NAME,push=true)\n');
  });

  test('output faults: a destination that cannot be written, an unknown type: one line, no image, no tag', async () => {
    const dir = ctx({ 'Dockerfile': `FROM ${b.busybox}\nRUN echo x > /x\n` });
    const missing = path.join(os.tmpdir(), `skiff-ci-no-such-${crypto.randomBytes(4).toString('hex')}`, 'out');
    const r = await sk(['build', '-t', 'ci/fault', '-o', `type=local,dest=${missing}`, dir]);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, `Error: cannot write output ${missing}: ${path.dirname(missing)}: no such directory\n`);
    const t = await sk(['build', '-t', 'ci/fault', '-o', 'type=s3,dest=x', dir]);
    assert.equal(t.code, 125);
    assert.match(t.stderr, /^Error: invalid --output type=s3,dest=x: unsupported type "s3"/);
    assert.notEqual((await sk(['image', 'inspect', 'ci/fault'])).code, 0);
  });

  test('--progress=plain: BuildKit\'s #N [stage k/n] lines with DONE and CACHED; --no-cache-filter; buildx build; --add-host; # syntax', async () => {
    const dir = ctx({
      'Dockerfile': `# syntax=docker/dockerfile:1.7
FROM ${b.busybox} AS base
RUN echo one; echo two
FROM base
COPY --link a /a
RUN --network=none cat /a && grep myhost /etc/hosts > /hosts
`,
      'a': 'content-of-a\n',
    });
    const norm = (s: string): string => s.replace(/DONE \d+\.\ds$/gm, 'DONE').replace(/^(#\d+) \d+\.\d{3} /gm, '$1 ');
    const first = await sk(['buildx', 'build', '--progress=plain', '--add-host', 'myhost:192.0.2.7', '-t', 'ci/plain', dir]);
    assert.equal(first.code, 0, first.stderr);
    const expected = (ran: boolean, baseRan = ran): string => [
      `#1 [base 1/2] FROM ${b.busybox} AS base`,
      '#2 [stage-1 1/3] FROM base',
      '#1 DONE',
      '#3 [base 2/2] RUN echo one; echo two',
      ...(baseRan ? ['#3 one', '#3 two', '#3 DONE'] : ['#3 CACHED']),
      '#2 DONE',
      '#4 [stage-1 2/3] COPY --link a /a',
      ran ? '#4 DONE' : '#4 CACHED',
      '#5 [stage-1 3/3] RUN --network=none cat /a && grep myhost /etc/hosts > /hosts',
      ...(ran ? ['#5 content-of-a', '#5 DONE'] : ['#5 CACHED']),
      '',
    ].join('\n');
    assert.equal(norm(first.stderr), expected(true));
    assert.match(first.stdout, /^Successfully built [0-9a-f]{12}\nSuccessfully tagged ci\/plain\n$/);
    const hosts = await sk(['run', '--rm', 'ci/plain', 'cat', '/hosts']);
    assert.equal(hosts.stdout, '192.0.2.7\tmyhost\n');
    const again = await sk(['build', '--progress=plain', '--add-host', 'myhost:192.0.2.7', dir]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(norm(again.stderr), expected(false));
    // the stage the filter names runs again, and so does everything built on it
    const filtered = await sk(['build', '--progress=plain', '--add-host', 'myhost:192.0.2.7', '--no-cache-filter', 'base', dir]);
    assert.equal(filtered.code, 0, filtered.stderr);
    assert.equal(norm(filtered.stderr), expected(true));
    const quiet = await sk(['build', '--progress=quiet', '--add-host', 'myhost:192.0.2.7', dir]);
    assert.equal(quiet.stderr, '');
    assert.match(quiet.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const badHost = await sk(['build', '--add-host', 'myhost', dir]);
    assert.equal(badHost.stderr, 'Error: invalid --add-host myhost: expected HOST:IP\n');
  });

  test('--ulimit and --shm-size: the RUN steps\' limits; a bad value is one line before any work', async () => {
    const dir = ctx({ 'Dockerfile': `FROM ${b.busybox}\nRUN ulimit -n > /limits && ulimit -Hn >> /limits && df -k /dev/shm | tail -n 1 | awk '{print $2}' >> /limits\n` });
    const r = await sk(['build', '-q', '--ulimit', 'nofile=512:1024', '--shm-size', '32m', '-t', 'ci/limits', dir]);
    assert.equal(r.code, 0, r.stderr);
    const out = await sk(['run', '--rm', 'ci/limits', 'cat', '/limits']);
    assert.equal(out.stdout, '512\n1024\n32768\n');
    const bad = await sk(['build', '-t', 'ci/limits-bad', '--ulimit', 'nofile=x', dir]);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: invalid argument "nofile=x" for "--ulimit" flag: /);
    assert.equal(bad.stderr.split('\n').length, 2, bad.stderr);
    assert.notEqual((await sk(['image', 'inspect', 'ci/limits-bad'])).code, 0);
  });

  test('refused clearly: another --platform, ADD --keep-git-dir', async () => {
    const dir = ctx({ 'Dockerfile': `FROM ${b.busybox}\nRUN true\n` });
    const other = os.arch() === 'arm64' ? 'linux/amd64' : 'linux/arm64';
    const p = await sk(['build', '--platform', other, dir]);
    assert.equal(p.code, 125);
    assert.match(p.stderr, new RegExp(`^Error: platform ${other} is not supported: skiff builds for the host platform linux/\\S+ only\n$`));
    // a git checkout is not fetched (nothing is asked of the address)
    const git = ctx({ 'Dockerfile': `FROM ${b.busybox}\nADD --keep-git-dir=true https://git.example.invalid/r.git /src\n` });
    const g = await sk(['build', git]);
    assert.notEqual(g.code, 0);
    assert.match(g.stderr, /\nError: Dockerfile:2: ADD: --keep-git-dir: skiff build does not clone git repositories .*\n$/);
  });
});
