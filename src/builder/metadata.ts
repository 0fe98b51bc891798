/**
 * Instructions that only change the image config (ENV, LABEL, EXPOSE, VOLUME, USER, STOPSIGNAL,
 * SHELL, MAINTAINER, ONBUILD, HEALTHCHECK, CMD, ENTRYPOINT), applied as Docker applies them; used
 * by `build` and by `commit --change`. Each returns the history line BuildKit writes for it.
 */
import { SkiffError } from '../errors.js';
import type { ContainerConfigFields, ImageConfig } from '../oci/media.js';
import { loadDockerfile, type Command } from './dockerfile/instructions.js';

export const envMap = (env: readonly string[] | null | undefined): Map<string, string> => {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return m;
};
export const envList = (m: Map<string, string>): string[] => [...m].map(([k, v]) => `${k}=${v}`);

export const DEFAULT_SHELL = ['/bin/sh', '-c'];
export const shellOf = (c: ContainerConfigFields): string[] => (c.Shell?.length ? c.Shell : DEFAULT_SHELL);

export type MetadataCommand = Extract<Command, { kind: 'ENV' | 'LABEL' | 'EXPOSE' | 'VOLUME' | 'USER' | 'STOPSIGNAL' | 'SHELL' | 'MAINTAINER' | 'ONBUILD' | 'HEALTHCHECK' | 'CMD' | 'ENTRYPOINT' }>;

const KINDS = new Set(['ENV', 'LABEL', 'EXPOSE', 'VOLUME', 'USER', 'STOPSIGNAL', 'SHELL', 'MAINTAINER', 'ONBUILD', 'HEALTHCHECK', 'CMD', 'ENTRYPOINT']);
export const isMetadata = (c: Command): c is MetadataCommand => KINDS.has(c.kind);

/**
 * Apply `cmd` (already expanded) to `image`, in place. `flags.cmdSet` tracks whether this stage set
 * CMD: ENTRYPOINT resets a CMD inherited from the base image, not one set in the same stage. With
 * `env`, ENV sets its variables there instead of in `image.config.Env` (a build keeps the
 * environment as a map while a stage builds: rewriting the list per ENV is quadratic).
 */
export function applyMetadata(cmd: MetadataCommand, image: ImageConfig, flags: { cmdSet: boolean }, env?: Map<string, string>): string {
  const c = (image.config ??= {});
  switch (cmd.kind) {
    case 'ENV': {
      const m = env ?? envMap(c.Env);
      for (const p of cmd.pairs) m.set(p.key, p.value);
      if (!env) c.Env = envList(m);
      return `ENV ${cmd.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`;
    }
    case 'LABEL':
      c.Labels ??= {};
      for (const p of cmd.pairs) c.Labels[p.key] = p.value;
      return `LABEL ${cmd.pairs.map((p) => `${p.key}=${p.value}`).join(' ')}`;
    case 'EXPOSE': {
      c.ExposedPorts ??= {};
      const ports: string[] = [];
      for (const p of cmd.ports) {
        if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw new SkiffError('EINVAL', `invalid containerPort: ${p}`);
        const k = p.includes('/') ? p.toLowerCase() : `${p}/tcp`;
        c.ExposedPorts[k] = {};
        ports.push(`${k}:{}`);
      }
      return `EXPOSE map[${ports.join(' ')}]`;
    }
    case 'VOLUME':
      c.Volumes ??= {};
      for (const v of cmd.volumes) {
        if (v.trim() === '') throw new SkiffError('EINVAL', 'VOLUME specified can not be an empty string');
        c.Volumes[v] = {};
      }
      return `VOLUME [${cmd.volumes.join(' ')}]`;
    case 'USER':
      c.User = cmd.user;
      return `USER ${cmd.user}`;
    case 'STOPSIGNAL':
      c.StopSignal = cmd.signal;
      return `STOPSIGNAL ${cmd.signal}`;
    case 'SHELL':
      c.Shell = cmd.shell;
      return `SHELL ${JSON.stringify(cmd.shell)}`;
    case 'MAINTAINER':
      image.author = cmd.maintainer;
      return `MAINTAINER ${cmd.maintainer}`;
    case 'ONBUILD':
      (c.OnBuild ??= []).push(cmd.expression);
      return `ONBUILD ${cmd.expression}`;
    case 'HEALTHCHECK':
      c.Healthcheck = {
        Test: cmd.test,
        ...(cmd.interval ? { Interval: cmd.interval } : {}),
        ...(cmd.timeout ? { Timeout: cmd.timeout } : {}),
        ...(cmd.startPeriod ? { StartPeriod: cmd.startPeriod } : {}),
        ...(cmd.startInterval ? { StartInterval: cmd.startInterval } : {}),
        ...(cmd.retries ? { Retries: cmd.retries } : {}),
      };
      return `HEALTHCHECK ${cmd.test[0] === 'NONE' ? 'NONE' : `&{${JSON.stringify(cmd.test)}}`}`;
    case 'CMD':
    case 'ENTRYPOINT': {
      const argv = cmd.shell ? [...shellOf(c), cmd.cmd.join(' ')] : cmd.cmd;
      if (cmd.kind === 'CMD') {
        c.Cmd = argv;
        flags.cmdSet = true;
      } else {
        c.Entrypoint = cmd.cmd.length ? argv : null;
        if (!flags.cmdSet) c.Cmd = null;
      }
      return `${cmd.kind} ${JSON.stringify(argv)}`;
    }
  }
}
/** The image config with `--change` instructions applied (commit's rules). */
export function applyChanges(image: ImageConfig, changes: string[]): void {
  if (!changes.length) return;
  const df = loadDockerfile(`FROM scratch\n${changes.join('\n')}\n`, 'change');
  const flags = { cmdSet: false };
  for (const cmd of df.stages[0]!.commands) {
    if (!isMetadata(cmd)) throw new SkiffError('EINVAL', `${cmd.name.toUpperCase()} is not a valid change command`);
    applyMetadata(cmd, image, flags);
  }
}

