/**
 * Builds side by side with Podman (Debian's podman 4.3 / buildah): the same Dockerfile built by
 * `skiff build` and `podman build` must give the same file tree (modes, owners, types, sizes of
 * files) and the same config; the image skiff built, pushed to the test registry and run by podman,
 * prints what podman's own image prints. Rootful only: the rootless user has no podman setup.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures, registry, skiff, tempStore, type TempStore } from '../helpers/fixtures.js';
import { PODMAN_LIMITS as LIMITS, podmanSkip as skip } from '../helpers/podman.js';
const podman = (args: string[]): string => execFileSync('podman', args, { maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** Every path of the image's root filesystem with type, mode, owner (and size for files), as podman runs it. */
const TREE = 'cd / && find . -xdev | grep -vE "^./(etc/(hosts|hostname|resolv.conf|mtab)|run/.containerenv)$" | sort | ' +
  'while read -r f; do if [ -d "$f" ]; then stat -c "%n %F %a %u:%g" "$f"; else stat -c "%n %F %a %u:%g %s" "$f"; fi; done';

const CONFIG_FIELDS = ['Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'ExposedPorts', 'Labels', 'Volumes', 'Healthcheck', 'StopSignal'] as const;

const DOCKERFILES: Record<string, (base: string) => string> = {
  'multi-stage with every config instruction': (base) => `FROM ${base} AS builder
RUN mkdir -p /out/deep && echo built > /out/result && chmod 0604 /out/result && ln -s result /out/link && \\
    mkdir -p /owned/sub && echo o > /owned/sub/f && chown -R 1000:50 /owned
FROM ${base}
COPY --from=builder /out/ /data/
COPY --from=builder /owned /kept
COPY --from=builder /owned/sub/f /kept-file
COPY src /dst/
COPY *.txt /txt/
COPY --chown=1000:50 --chmod=0640 one.txt /owned/
RUN rm /bin/vi && mkdir -p /var/empty && echo changed >> /etc/group
ENV APP_MODE=prod
LABEL org.example.name=demo org.example.multi="a b"
EXPOSE 8080 53/udp
VOLUME /var/lib/app
WORKDIR /srv/app
USER app
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD ["true"]
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo \\"$APP_MODE $(id -un) $(pwd)\\"; cat /data/result /dst/a /txt/two.txt"]
`,
  'FROM scratch with a static busybox': () => `FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
WORKDIR /work
ENV GREETING=hi
CMD ["sh", "-c", "echo $GREETING from $(pwd); ls /bin | wc -l"]
`,
};

describe('builds the same image as podman build', { skip }, () => {
  let store: TempStore;
  let dir: string;
  const base = (): string => fixtures().busybox;
  before(async () => {
    store = await tempStore();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-peer-ctx-'));
    fs.mkdirSync(path.join(dir, 'src/sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'src/a'), 'a\n');
    fs.writeFileSync(path.join(dir, 'src/sub/b'), 'b\n');
    fs.chmodSync(path.join(dir, 'src/sub/b'), 0o755);
    fs.writeFileSync(path.join(dir, 'one.txt'), 'one\n');
    fs.writeFileSync(path.join(dir, 'two.txt'), 'two\n');
    fs.copyFileSync('/bin/busybox', path.join(dir, 'busybox'));
    podman(['pull', '-q', '--tls-verify=false', base()]);
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await store.cleanup();
  });

  let n = 0;
  for (const [name, dockerfile] of Object.entries(DOCKERFILES)) {
    test(name, async () => {
      const tag = `peer-${process.pid}-${++n}`;
      const df = path.join(dir, `Dockerfile.${n}`);
      fs.writeFileSync(df, dockerfile(base()));
      const ours = `${registry()}/skiff-peer/${tag}:1`;
      const theirs = `localhost/skiff-peer/${tag}:1`;
      const b = await skiff(['build', '-q', '-f', df, '-t', ours, dir], { store });
      assert.equal(b.code, 0, b.stderr);
      podman(['build', '-q', '--no-cache', '--format', 'docker', '--tls-verify=false', '--network=none', ...LIMITS, '-f', df, '-t', theirs, dir]);
      try {
        // config
        const ourCfg = JSON.parse((await skiff(['image', 'inspect', ours, '--format', '{{json .Config}}'], { store })).stdout) as Record<string, unknown>;
        const theirCfg = JSON.parse(podman(['image', 'inspect', theirs, '--format', '{{json .Config}}'])) as Record<string, unknown>;
        // podman's inspect keeps the health check beside .Config; buildah adds its own version label
        theirCfg.Healthcheck = JSON.parse(podman(['image', 'inspect', theirs, '--format', '{{json .HealthCheck}}']));
        const labels = theirCfg.Labels as Record<string, string> | undefined;
        if (labels) delete labels['io.buildah.version'];
        const norm = (v: unknown): unknown => (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0 ? null : v ?? null);
        for (const f of CONFIG_FIELDS) assert.deepEqual(norm(ourCfg[f]), norm(theirCfg[f]), `config field ${f}`);
        // the file tree and the output, both images run by podman
        const p = await skiff(['push', '-q', ours], { store });
        assert.equal(p.code, 0, p.stderr);
        podman(['pull', '-q', '--tls-verify=false', ours]);
        const run = (image: string, args: string[]): string => podman(['run', '--rm', '--network=none', ...LIMITS, ...args, image]);
        const tree = (image: string): string =>
          podman(['run', '--rm', '--network=none', ...LIMITS, '--user', '0', '--entrypoint', '/bin/sh', image, '-c', TREE]);
        const ourTree = tree(ours).split('\n');
        const theirTree = tree(theirs).split('\n');
        assert.ok(ourTree.length > 10, ourTree.join('\n'));
        assert.deepEqual(ourTree, theirTree);
        assert.equal(run(ours, []), run(theirs, []));
      } finally {
        podman(['rmi', '-f', theirs, ours]);
      }
    });
  }
});
