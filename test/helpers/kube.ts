/** Container records for the kube tests (Docker's inspect shape, as skiff's create writes them), and kubectl's offline checks. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DockerRecord } from '../../src/kube/index.js';

/** dist/test/helpers → repository root */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const KUBE_FIXTURES = path.join(REPO, 'test/fixtures/kube');

type Over = { Config?: Partial<DockerRecord['Config']>; HostConfig?: Partial<DockerRecord['HostConfig']> } & Partial<Omit<DockerRecord, 'Config' | 'HostConfig'>>;

/** A record as `skiff create --name NAME IMAGE` leaves it (busybox: CMD ["sh"]), with overrides. */
export function record(name: string, over: Over = {}): DockerRecord {
  const id = (name.padEnd(8, 'x').split('').map((c) => c.charCodeAt(0).toString(16)).join('') + '0'.repeat(64)).slice(0, 64);
  const base: DockerRecord = {
    Id: id,
    Name: name,
    Created: '2026-01-01T00:00:00.000Z',
    Path: 'sh',
    Args: [],
    Image: 'f'.repeat(64),
    ImageName: 'busybox',
    Config: {
      Hostname: id.slice(0, 12),
      Domainname: '',
      User: '',
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      OpenStdin: false,
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `HOSTNAME=${id.slice(0, 12)}`, 'HOME=/root'],
      Cmd: ['sh'],
      Image: 'busybox',
      Volumes: null,
      WorkingDir: '',
      Entrypoint: null,
      Labels: {},
    },
    HostConfig: {
      Binds: null,
      NetworkMode: 'bridge',
      AutoRemove: false,
      Privileged: false,
      CapAdd: null,
      CapDrop: null,
      ReadonlyRootfs: false,
      SecurityOpt: null,
      Init: false,
      MaskedPaths: [],
      ReadonlyPaths: [],
      Tmpfs: null,
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      LogConfig: { Type: 'json-file', Config: {} },
    },
    Mounts: [],
    Rootless: false,
    Layers: [],
  };
  const { Config, HostConfig, ...rest } = over;
  return { ...base, ...rest, Config: { ...base.Config, ...(Config ?? {}) }, HostConfig: { ...base.HostConfig, ...(HostConfig ?? {}) } };
}

/** busybox's image config (what `image` defaults look like). */
export const BUSYBOX = { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], Entrypoint: null, WorkingDir: '', User: '', Labels: null };

const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => fs.existsSync(p));

/**
 * Why kubectl cannot check here, or false. `kubectl create --dry-run=client` needs a server even then
 * (it asks for the API's discovery and OpenAPI documents: "connection refused" with no cluster), so the
 * offline checks are `kubectl set env --local`, which decodes each document into kubectl's typed objects,
 * run in a new network namespace with no network: it cannot reach any server even by mistake.
 */
export function kubectlSkip(): string | false {
  if (!kubectl) return 'kubectl is not installed';
  const r = spawnSync('unshare', ['-rn', 'true'], { encoding: 'utf8' });
  if (r.status !== 0) return `unshare -rn fails here (${(r.stderr || '').trim()}): kubectl is only run without network`;
  return false;
}

function runKubectl(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'kubectl-home-'));
  try {
    const r = spawnSync('unshare', ['-rn', kubectl!, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** kubectl's typed decoding of every document of a file: its errors ('' when it decodes). */
export function kubectlDecodeErrors(file: string): string {
  const r = runKubectl(['set', 'env', '--local', '--list', '-f', file]);
  return r.status === 0 && !/unable to decode|error:/.test(r.stderr) ? '' : (r.stderr || `exit ${r.status}`).trim();
}

/** A Pod or Deployment document as kubectl's typed objects print it back (JSON), after a no-op env change. */
export function kubectlTyped(docYaml: string): Record<string, unknown> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubectl-doc-'));
  try {
    fs.writeFileSync(path.join(dir, 'doc.yaml'), docYaml);
    const r = runKubectl(['set', 'env', '--local', '-o', 'json', '-f', path.join(dir, 'doc.yaml'), 'SKIFF_KUBECTL_CHECK=1']);
    if (r.status !== 0) throw new Error(`kubectl: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Every leaf of `ours` (path → value), for comparing with what kubectl kept. */
export function leaves(v: unknown, p = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(v)) v.forEach((x, i) => leaves(x, `${p}[${i}]`, out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) leaves(x, p ? `${p}.${k}` : k, out);
  else out.set(p, v);
  return out;
}
