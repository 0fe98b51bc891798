/**
 * `build`, `commit` and `history` through the CLI binary: Dockerfiles built on the fixture busybox
 * image (umoci, from Debian's busybox-static) and FROM scratch, the results run by skiff, the cache
 * observed through rebuilds. Runs rootful and rootless (build works inside skiff's user namespace).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fixtures, registry, skiff, SKIFF_BIN, tempStore, type TempStore } from '../helpers/fixtures.js';

/** A context directory with these files (mode 0644 unless given as [content, mode]). */
function context(files: Record<string, string | [string, number]>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-ctx-'));
  for (const [name, v] of Object.entries(files)) {
    const [content, mode] = Array.isArray(v) ? v : [v, 0o644];
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
    fs.chmodSync(path.join(dir, name), mode);
  }
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** Pids of `sleep SECONDS` processes (what a RUN left running). */
function sleepers(seconds: string): string[] {
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') === `sleep\u0000${seconds}\u0000`;
    } catch {
      return false;
    }
  });
}

const usedCache = (stderr: string): number => stderr.split('\n').filter((l) => l.startsWith('--> Using cache')).length;

describe('build', () => {
  let store: TempStore;
  let busybox: string;
  const dirs: string[] = [];
  const ctx = (files: Record<string, string | [string, number]>): string => {
    const d = context(files);
    dirs.push(d);
    return d;
  };
  const build = async (args: string[], input?: string) => {
    const r = await skiff(['build', ...args], { store, ...(input !== undefined ? { input } : {}) });
    return r;
  };
  const run = async (image: string, script: string) => skiff(['run', '--rm', image, 'sh', '-c', script], { store });

  before(async () => {
    store = await tempStore();
    busybox = fixtures().busybox;
    const r = await skiff(['pull', '-q', busybox], { store });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    await store.cleanup();
  });

  test('a multi-stage Dockerfile: the image runs and carries its config', async () => {
    const dir = ctx({
      'Dockerfile': `ARG BASE=${busybox}
FROM $BASE AS builder
RUN mkdir -p /out && echo built > /out/result && chmod 0604 /out/result
FROM scratch
COPY --from=builder /bin/busybox /bin/busybox
COPY --from=builder /out/ /data/
ENV APP_MODE=prod PATH=/bin
LABEL org.example.name=demo
EXPOSE 8080 53/udp
VOLUME /var/lib/app
WORKDIR /srv/app
USER 1000:1000
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD ["/bin/busybox", "true"]
ENTRYPOINT ["/bin/busybox"]
CMD ["sh", "-c", "cat /data/result; pwd; id -u; echo $APP_MODE"]
`,
    });
    const r = await build(['-t', 'multi:1', '-t', 'multi:latest', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Successfully tagged multi:1/);
    const out = await skiff(['run', '--rm', 'multi:1'], { store });
    assert.equal(out.stdout, 'built\n/srv/app\n1000\nprod\n', out.stderr);
    const ins = await skiff(['image', 'inspect', 'multi:latest', '--format', '{{json .Config}}'], { store });
    const cfg = JSON.parse(ins.stdout) as Record<string, unknown>;
    assert.deepEqual(cfg.Env, ['PATH=/bin', 'APP_MODE=prod']);
    assert.deepEqual(cfg.Entrypoint, ['/bin/busybox']);
    assert.deepEqual(cfg.Cmd, ['sh', '-c', 'cat /data/result; pwd; id -u; echo $APP_MODE']);
    assert.equal(cfg.WorkingDir, '/srv/app');
    assert.equal(cfg.User, '1000:1000');
    assert.deepEqual(cfg.ExposedPorts, { '8080/tcp': {}, '53/udp': {} });
    assert.deepEqual(cfg.Labels, { 'org.example.name': 'demo' });
    assert.deepEqual(cfg.Volumes, { '/var/lib/app': {} });
    assert.equal(cfg.StopSignal, 'SIGINT');
    assert.deepEqual(cfg.Healthcheck, { Test: ['CMD', '/bin/busybox', 'true'], Interval: 5e9, Retries: 2 });
    const mode = await skiff(['run', '--rm', '--user', '0', 'multi:1', 'stat', '-c', '%a %u:%g', '/data/result', '/srv/app'], { store });
    assert.equal(mode.stdout, '604 0:0\n755 0:0\n', mode.stderr);
    const hist = await skiff(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'multi:1'], { store });
    assert.equal(hist.code, 0, hist.stderr);
    assert.match(hist.stdout, /^CMD \["sh","-c",/);
    assert.match(hist.stdout, /COPY \/bin\/busybox \/bin\/busybox/);
  });

  test('COPY: directory contents, files into a dir, wildcards, --chown, --chmod, .dockerignore', async () => {
    const dir = ctx({
      'Dockerfile': `FROM ${busybox}
COPY src /dst/
COPY *.txt /txt/
COPY one.txt /renamed
COPY --chown=1:2 --chmod=0600 one.txt /owned/
COPY --chown=app one.txt /byname/
RUN find /dst /txt /renamed /owned /byname | sort | xargs stat -c '%n %a %u:%g'
`,
      'src/a': 'a',
      'src/sub/b': ['b', 0o755],
      'src/skip.tmp': 'x',
      'one.txt': '1',
      'two.txt': '2',
      'secret.key': 's',
      '.dockerignore': 'src/*.tmp\n*.key\n',
    });
    const r = await build(['-t', 'copy:1', dir]);
    assert.equal(r.code, 0, r.stderr);
    const out = await run('copy:1', "find /dst /txt /renamed /owned /byname | sort | xargs stat -c '%n %a %u:%g'");
    assert.equal(out.stdout, [
      '/byname 755 1000:1000', '/byname/one.txt 644 1000:1000',
      '/dst 755 0:0', '/dst/a 644 0:0', '/dst/sub 755 0:0', '/dst/sub/b 755 0:0',
      '/owned 755 1:2', '/owned/one.txt 600 1:2',
      '/renamed 644 0:0',
      '/txt 755 0:0', '/txt/one.txt 644 0:0', '/txt/two.txt 644 0:0', '',
    ].join('\n'), out.stderr);
    const ignored = await build(['-q', '-f', '-', dir], `FROM ${busybox}\nCOPY secret.key /\n`);
    assert.equal(ignored.code, 125);
    assert.match(ignored.stderr, /^Error: Dockerfile:2: COPY: "\/secret.key": not found\n$/);
  });

  test('ARG, --build-arg, --target, -f -, --label, --iidfile, -q', async () => {
    const dir = ctx({});
    const iid = path.join(dir, 'iid');
    const df = `FROM ${busybox} AS one
ARG WHO=world
RUN echo "hello $WHO" > /greeting
FROM one AS two
RUN echo never > /never
`;
    const r = await build(['-q', '--target', 'one', '--build-arg', 'WHO=skiff', '--label', 'a=b', '--iidfile', iid, '-t', 'args:1', '-f', '-', dir], df);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(r.stderr, '');
    assert.equal(fs.readFileSync(iid, 'utf8'), r.stdout.trim());
    const scoped = await build(['-q', '--build-arg', 'WHO=skiff', '-t', 'args:2', '-f', '-', dir],
      `ARG WHO=meta\nFROM ${busybox}\nRUN echo "[$WHO]" > /unscoped\nFROM ${busybox}\nARG WHO\nRUN echo "[$WHO]" > /scoped\nCOPY --from=0 /unscoped /\n`);
    assert.equal(scoped.code, 0, scoped.stderr);
    assert.equal((await run('args:2', 'cat /unscoped /scoped')).stdout, '[]\n[skiff]\n');
    const out = await run('args:1', 'cat /greeting; ls /never 2>&1 || true');
    assert.match(out.stdout, /^hello skiff\nls: \/never: No such file or directory\n$/);
    const lab = await skiff(['image', 'inspect', 'args:1', '--format', '{{json .Config.Labels}}'], { store });
    assert.deepEqual(JSON.parse(lab.stdout), { ...(fixtures().images.busybox.config?.Labels ?? {}), a: 'b' });
  });

  test('heredocs, ADD of a local tar, SHELL, ONBUILD, a context tar on stdin', async () => {
    const dir = ctx({ 'payload/x.txt': 'from tar\n', 'payload/sub/y.txt': 'y\n' });
    execFileSync('tar', ['-czf', path.join(dir, 'p.tar.gz'), '-C', path.join(dir, 'payload'), '.']);
    fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${busybox}
ARG WHO=heredoc
RUN <<EOF
echo "script line 1" > /h1
echo "$WHO" >> /h1
EOF
COPY <<EOT /etc/conf.txt
name=$WHO
EOT
ADD p.tar.gz /unpacked/
SHELL ["/bin/sh", "-ec"]
RUN echo "$0" > /shell
ONBUILD RUN echo triggered > /onbuild
`);
    const r = await build(['-t', 'hd:1', dir]);
    assert.equal(r.code, 0, r.stderr);
    const out = await run('hd:1', 'cat /h1 /etc/conf.txt /unpacked/x.txt /unpacked/sub/y.txt /shell; ls /onbuild 2>&1 || true');
    assert.equal(out.stdout, 'script line 1\nheredoc\nname=heredoc\nfrom tar\ny\n/bin/sh\nls: /onbuild: No such file or directory\n', out.stderr);
    const child = ctx({ 'Dockerfile': 'FROM hd:1\nRUN cat /onbuild\n' });
    execFileSync('tar', ['-cf', 'ctx.tar', 'Dockerfile'], { cwd: child });
    const viaStdin = await skiff(['build', '-q', '-t', 'hd:2', '-'], { store, input: fs.readFileSync(path.join(child, 'ctx.tar')) });
    assert.equal(viaStdin.code, 0, viaStdin.stderr);
    const trig = await run('hd:2', 'cat /onbuild');
    assert.equal(trig.stdout, 'triggered\n', trig.stderr);
    const cfg = await skiff(['image', 'inspect', 'hd:2', '--format', '{{json .Config.OnBuild}}'], { store });
    assert.equal(cfg.stdout.trim(), 'null');
  });

  test('COPY keeps hard links (in the layer and its tar); build - takes a Dockerfile as well as a tar; Containerfile', async () => {
    const dir = ctx({ 'a': 'linked\n', 'dir/x': 'x\n', 'Dockerfile': `FROM ${busybox}\nCOPY . /h/\nCOPY a dir/c /two/\n` });
    fs.linkSync(path.join(dir, 'a'), path.join(dir, 'b'));
    fs.linkSync(path.join(dir, 'a'), path.join(dir, 'dir/c'));
    const r = await build(['-q', '-t', 'hard:1', dir]);
    assert.equal(r.code, 0, r.stderr);
    const st = await run('hard:1', 'stat -c "%i %h" /h/a /h/b /h/dir/c /h/dir/x; stat -c %i /two/a /two/c | uniq | wc -l');
    const [a, b, c, x, two] = st.stdout.trim().split('\n');
    assert.equal(a, b, st.stdout);
    assert.equal(a, c, st.stdout);
    assert.match(a!, / 3$/);
    assert.match(x!, / 1$/);
    assert.equal(two, '2', 'two sources of one COPY are copied apart (each is its own copy in BuildKit)');
    // the packed layer holds the second and third paths as hard-link entries (typeflag 1)
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-hard-'));
    dirs.push(out);
    assert.equal((await skiff(['save', '-o', path.join(out, 'i.tar'), 'hard:1'], { store })).code, 0);
    execFileSync('tar', ['-xf', 'i.tar'], { cwd: out });
    const listing = fs.readdirSync(path.join(out, 'blobs/sha256')).map((f) => {
      try {
        return execFileSync('tar', ['-tvf', path.join(out, 'blobs/sha256', f)], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
      } catch {
        return '';
      }
    }).join('');
    assert.equal(listing.split('\n').filter((l) => /^h.* h\/(b|dir\/c) link to h\/a$/.test(l)).length, 2, listing);

    // a Dockerfile on stdin (no context): RUN works, COPY finds nothing
    const plain = await skiff(['build', '-q', '-t', 'stdin-df:1', '-'], { store, input: `FROM ${busybox}\nRUN echo from-stdin > /x\n` });
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal((await run('stdin-df:1', 'cat /x')).stdout, 'from-stdin\n');
    const copy = await skiff(['build', '-q', '-'], { store, input: 'FROM scratch\nCOPY x /x\n' });
    assert.equal(copy.code, 125);
    assert.match(copy.stderr, /^Error: Dockerfile:2: COPY: "\/x": not found$/m);

    // Podman's Containerfile when there is no Dockerfile; Dockerfile first when both are there
    const cf = ctx({ 'Containerfile': `FROM ${busybox}\nRUN echo containerfile > /which\n` });
    const one = await build(['-q', '-t', 'cf:1', cf]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal((await run('cf:1', 'cat /which')).stdout, 'containerfile\n');
    fs.writeFileSync(path.join(cf, 'Dockerfile'), `FROM ${busybox}\nRUN echo dockerfile > /which\n`);
    const two2 = await build(['-q', '-t', 'cf:2', cf]);
    assert.equal(two2.code, 0, two2.stderr);
    assert.equal((await run('cf:2', 'cat /which')).stdout, 'dockerfile\n');
  });

  test('RUN --mount: cache persists across builds, bind sees the context without keeping it, tmpfs', async () => {
    const dir = ctx({
      'Dockerfile': `FROM ${busybox}
RUN --mount=type=cache,target=/var/cache/app echo run >> /var/cache/app/log && wc -l < /var/cache/app/log > /count
RUN --mount=type=bind,source=src,target=/mnt/src,rw cat /mnt/src/input > /from-bind && echo scribble > /mnt/src/input
RUN --mount=type=tmpfs,target=/scratch echo t > /scratch/t && grep -c tmpfs /proc/mounts > /tmpfs-count
RUN --mount=type=bind,source=src/input,target=/input.txt cp /input.txt /copied
`,
      'src/input': 'bound\n',
    });
    const one = await build(['-t', 'mnt:1', dir]);
    assert.equal(one.code, 0, one.stderr);
    const two = await build(['--no-cache', '-t', 'mnt:2', dir]);
    assert.equal(two.code, 0, two.stderr);
    const out = await run('mnt:2', 'cat /count /from-bind /copied; ls /var/cache/app /mnt /scratch /input.txt 2>&1 | sort; [ -s /tmpfs-count ] && echo tmpfs-ok');
    assert.equal(out.stdout, [
      '2', 'bound', 'bound',
      'ls: /input.txt: No such file or directory', 'ls: /mnt: No such file or directory',
      'ls: /scratch: No such file or directory', 'ls: /var/cache/app: No such file or directory', 'tmpfs-ok', '',
    ].join('\n'), out.stderr);
    assert.equal(fs.readFileSync(path.join(dir, 'src/input'), 'utf8'), 'bound\n');
    const bad = await build(['-f', '-', dir], `FROM ${busybox}\nRUN --mount=type=secret,id=x,required true\n`);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Error: Dockerfile:2: RUN: secret "x" is required but was not given/m);
  });

  test('ADD of an https URL: redirects followed, the extra CA file (NODE_EXTRA_CA_CERTS) trusted, an unknown CA refused', async () => {
    const certs = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-add-tls-'));
    dirs.push(certs);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', `${certs}/key.pem`, '-out', `${certs}/cert.pem`, '-days', '1', '-subj', '/CN=skiff-add-test',
      '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    fs.chmodSync(certs, 0o755);
    fs.chmodSync(`${certs}/cert.pem`, 0o644);
    const server = https.createServer({ key: fs.readFileSync(`${certs}/key.pem`), cert: fs.readFileSync(`${certs}/cert.pem`) }, (req, res) => {
      if (req.url === '/old/secure.txt') {
        res.writeHead(302, { location: '/new/secure.txt' });
        res.end();
      } else if (req.url === '/new/secure.txt') {
        res.writeHead(200);
        res.end('over tls\n');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/old/secure.txt`;
    try {
      const dir = ctx({ 'Dockerfile': `FROM ${busybox}\nADD ${url} /dl/\n` });
      const ok = await skiff(['build', '--no-cache', '-t', 'tls:1', dir], { store, env: { NODE_EXTRA_CA_CERTS: `${certs}/cert.pem` } });
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal((await run('tls:1', 'cat /dl/secure.txt')).stdout, 'over tls\n');
      const refused = await skiff(['build', '--no-cache', '-q', dir], { store, env: { NODE_EXTRA_CA_CERTS: '' } });
      assert.equal(refused.code, 125);
      assert.match(refused.stderr, /^Error: Dockerfile:2: ADD: failed to download https:.*secure\.txt: .*(self-signed|certificate)/m);
    } finally {
      server.close();
    }
  });

  test('ADD of a URL; --platform other than the host and bad tags are refused up front', async () => {
    const body = 'downloaded\n';
    const server = http.createServer((req, res) => {
      if (req.url === '/files/data.txt') {
        res.writeHead(200, { 'last-modified': 'Tue, 01 Jan 2002 00:00:00 GMT' });
        res.end(body);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/files`;
    try {
      const dir = ctx({ 'Dockerfile': `FROM ${busybox}\nADD ${url}/data.txt /dl/\n` });
      const r = await build(['-t', 'url:1', dir]);
      assert.equal(r.code, 0, r.stderr);
      const out = await run('url:1', 'cat /dl/data.txt; stat -c "%a %Y" /dl/data.txt');
      assert.equal(out.stdout, `downloaded\n600 ${Date.UTC(2002, 0, 1) / 1000}\n`, out.stderr);
      const sum = crypto.createHash('sha256').update(body).digest('hex');
      const good = await build(['-q', '-f', '-', dir], `FROM ${busybox}\nADD --checksum=sha256:${sum} ${url}/data.txt /x\n`);
      assert.equal(good.code, 0, good.stderr);
      const bad = await build(['-q', '-f', '-', dir], `FROM ${busybox}\nADD --checksum=sha256:${'0'.repeat(64)} ${url}/data.txt /x\n`);
      assert.equal(bad.code, 125);
      assert.match(bad.stderr, /^Error: Dockerfile:2: ADD: digest mismatch for http:.*data.txt: expected sha256:0+, got sha256:[0-9a-f]{64}$/m);
      const missing = await build(['-q', '-f', '-', dir], `FROM ${busybox}\nADD ${url}/nope /x\n`);
      assert.equal(missing.code, 125);
      assert.match(missing.stderr, /^Error: Dockerfile:2: ADD: failed to download .*: 404/m);
    } finally {
      server.close();
    }
    const dir = ctx({ 'Dockerfile': `FROM ${busybox}\n` });
    const plat = await build(['--platform', 'linux/s390x', dir]);
    assert.equal(plat.code, 125);
    assert.match(plat.stderr, /^Error: platform linux\/s390x is not supported: skiff builds for the host platform/);
    const tag = await build(['-t', 'Bad:Tag', dir]);
    assert.equal(tag.code, 125);
    assert.equal(tag.stderr.split('\n').filter((l) => l.startsWith('STEP')).length, 0);
  });

  test('independent stages build concurrently', async () => {
    // Each stage leaves a mark in a shared cache mount and waits (bounded) for the other's mark:
    // both can only see each other's mark when they run at the same time. A mark appears by
    // rename, so the other stage never reads it half-written.
    const stage = (me: string, other: string): string =>
      `RUN --mount=type=cache,target=/meet,id=meet-${process.pid} echo ${me} > /meet/.${me} && mv /meet/.${me} /meet/${me} && ` +
      `for i in $(seq 1 200); do [ -e /meet/${other} ] && break; sleep 0.1; done && cat /meet/${other} > /saw`;
    const dir = ctx({
      'Dockerfile': `FROM ${busybox} AS a\n${stage('a', 'b')}\nFROM ${busybox} AS b\n${stage('b', 'a')}\n` +
        `FROM ${busybox}\nCOPY --from=a /saw /a-saw\nCOPY --from=b /saw /b-saw\n`,
    });
    const r = await build(['-t', 'conc:1', dir]);
    assert.equal(r.code, 0, r.stderr);
    const out = await run('conc:1', 'cat /a-saw /b-saw');
    assert.equal(out.stdout, 'b\na\n', out.stderr);
  });

  test('a failing RUN exits 1 and names file, line and instruction; parse errors exit 125', async () => {
    const dir = ctx({ 'Dockerfile': `FROM ${busybox}\nRUN echo ok\nRUN echo to-stderr >&2; exit 3\n` });
    const r = await build(['-t', 'fail:1', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /to-stderr/);
    assert.match(r.stderr, /Error: Dockerfile:3: RUN: process "\/bin\/sh -c echo to-stderr >&2; exit 3" did not complete successfully: exit code: 3\n$/);
    const images = await skiff(['images', '--format', '{{.Repository}}'], { store });
    assert.doesNotMatch(images.stdout, /fail/);
    const bad = await build(['-f', '-', dir], `FROM ${busybox}\nRUN --mount=type=nope true\n`);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: Dockerfile:2: RUN: /m);
  });

  test('cache: unchanged rebuild is fully cached with the same id; one changed file rebuilds from its step', async () => {
    const dir = ctx({
      'Dockerfile': `FROM ${busybox}\nRUN echo first > /first\nCOPY a.txt /a.txt\nRUN cat /a.txt > /copy\nCOPY b.txt /b.txt\n`,
      'a.txt': 'A1',
      'b.txt': 'B1',
    });
    const one = await build(['-q', dir]);
    assert.equal(one.code, 0, one.stderr);
    const two = await build([dir]);
    assert.equal(two.code, 0, two.stderr);
    assert.equal(usedCache(two.stderr), 4, two.stderr);
    const idOf = async (args: string[]) => (await build(['-q', ...args])).stdout.trim();
    assert.equal(await idOf([dir]), one.stdout.trim());
    // a new mtime with the same content stays cached
    fs.utimesSync(path.join(dir, 'a.txt'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    assert.equal(await idOf([dir]), one.stdout.trim());
    fs.writeFileSync(path.join(dir, 'a.txt'), 'A2');
    const three = await build(['-t', 'cache:3', dir]);
    assert.equal(three.code, 0, three.stderr);
    assert.equal(usedCache(three.stderr), 1, three.stderr); // only RUN echo first
    const out = await run('cache:3', 'cat /copy /b.txt');
    assert.equal(out.stdout, 'A2B1');
    const nocache = await build(['--no-cache', dir]);
    assert.equal(usedCache(nocache.stderr), 0);
  });

  test('an interrupted build leaves no broken cache entry; concurrent builds agree', async () => {
    const dir = ctx({ 'Dockerfile': `FROM ${busybox}\nRUN echo one > /one\nRUN sleep 26\n` });
    const killed = await skiff(['build', dir], { store, killAfterMs: 3000 });
    assert.equal(killed.signal, 'SIGKILL');
    // the RUN dies with the killed build (the shim's parent-death signal), within a bounded wait
    for (let i = 0; i < 50 && sleepers('26').length; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(sleepers('26'), []);
    fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM ${busybox}\nRUN echo one > /one\nRUN cat /one\n`);
    const [a, b] = await Promise.all([build(['-q', dir]), build(['-q', dir])]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const again = await build([dir]);
    assert.equal(usedCache(again.stderr), 2, again.stderr);
    const id = (await build(['-q', dir])).stdout;
    assert.ok([a.stdout, b.stdout].includes(id), `${id} is one of the concurrent builds' ${a.stdout} ${b.stdout}`);
  });

  test('SIGTERM stops the running RUN and the build cleans up after itself', async () => {
    const dir = ctx({ 'Dockerfile': `FROM ${busybox}\nRUN echo started; exec sleep 27\n` });
    const child = spawn(SKIFF_BIN, ['build', dir], { env: { ...process.env, ...store.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let sent = false;
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (!sent && stderr.includes('started\n')) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    assert.equal(code, 143, stderr);
    assert.match(stderr, /Error: Dockerfile:2: RUN: build interrupted by SIGTERM\n$/);
    assert.deepEqual(sleepers('27'), []);
    // nothing else runs on this store now: what an earlier killed build left was swept at this build's start
    assert.deepEqual(fs.readdirSync(path.join(store.root, 'tmp')), [], stderr);
  });

  test('a built image pushes to a registry and runs from a fresh store', async () => {
    const dir = ctx({ 'Dockerfile': `FROM ${busybox}\nRUN echo pushed > /msg\nCMD ["cat", "/msg"]\n` });
    const ref = `${registry()}/skiff-built/pushed:${process.pid}`;
    const r = await build(['-q', '-t', ref, dir]);
    assert.equal(r.code, 0, r.stderr);
    const p = await skiff(['push', '-q', ref], { store });
    assert.equal(p.code, 0, p.stderr);
    const fresh = await tempStore();
    try {
      const out = await skiff(['run', '--rm', ref], { store: fresh });
      assert.equal(out.stdout, 'pushed\n', out.stderr);
    } finally {
      await fresh.cleanup();
    }
  });

  test('commit: a container\'s changes become an image', async () => {
    const c = await skiff(['run', '--name', `commit-${process.pid}`, busybox, 'sh', '-c', 'echo changed > /changed; rm /bin/vi'], { store });
    assert.equal(c.code, 0, c.stderr);
    const r = await skiff(['commit', '-m', 'my change', '-c', 'ENV COMMITTED=1', `commit-${process.pid}`, 'committed:1'], { store });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const out = await run('committed:1', 'cat /changed; echo $COMMITTED; ls /bin/vi 2>&1 || true');
    assert.equal(out.stdout, 'changed\n1\nls: /bin/vi: No such file or directory\n', out.stderr);
    const hist = await skiff(['history', '--format', '{{.Comment}}', 'committed:1'], { store });
    assert.equal(hist.stdout.split('\n')[0], 'my change');
    await skiff(['rm', `commit-${process.pid}`], { store });
  });
});
