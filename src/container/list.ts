/** Rows for `ps` and the Docker-format JSON for `container inspect`. */
import { SkiffError } from '../errors.js';
import { createdSince, humanDuration } from '../cli/output/units.js';
import { containerFiles, listContainers, readMonitor, type ContainerRecord } from '../store/containers.js';
import { containerState, statusText, type DockerState } from './state.js';

export interface ContainerRow {
  ID: string;
  Image: string;
  Command: string;
  CreatedAt: string;
  RunningFor: string;
  Status: string;
  State: string;
  Ports: string;
  Names: string;
  Labels: string;
  Mounts: string;
  Networks: string;
  Size: string;
}

function matches(rec: ContainerRecord, st: DockerState, filters: string[]): boolean {
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq < 0) throw new SkiffError('EINVAL', `bad format of filter (expected name=value): ${f}`);
    const k = f.slice(0, eq);
    const v = f.slice(eq + 1);
    switch (k) {
      case 'status':
        if (st.Status !== v) return false;
        break;
      case 'name':
        if (!new RegExp(v).test(rec.Name)) return false;
        break;
      case 'id':
        if (!rec.Id.startsWith(v)) return false;
        break;
      case 'label': {
        const [lk, lv] = v.split('=', 2) as [string, string?];
        if (!(lk in rec.Config.Labels) || (lv !== undefined && rec.Config.Labels[lk] !== lv)) return false;
        break;
      }
      case 'ancestor':
        if (rec.ImageName !== v && rec.Config.Image !== v && !rec.Image.slice(7).startsWith(v.replace(/^sha256:/, ''))) return false;
        break;
      case 'exited':
        if (st.Status !== 'exited' || String(st.ExitCode) !== v) return false;
        break;
      default:
        throw new SkiffError('EINVAL', `invalid filter '${k}'`);
    }
  }
  return true;
}

const quote = (s: string, trunc: boolean): string => {
  const t = trunc && s.length > 20 ? `${s.slice(0, 19)}…` : s;
  return `"${t}"`;
};

export function listContainerRows(o: { all: boolean; last?: number; filters: string[]; noTrunc: boolean }): ContainerRow[] {
  let recs = listContainers().sort((a, b) => b.Created.localeCompare(a.Created));
  const states = new Map(recs.map((r) => [r.Id, containerState(r)] as const));
  recs = recs.filter((r) => (o.all || o.last !== undefined || o.filters.length ? true : states.get(r.Id)!.Running));
  recs = recs.filter((r) => matches(r, states.get(r.Id)!, o.filters));
  if (o.last !== undefined && o.last >= 0) recs = recs.slice(0, o.last);
  const since = (iso: string): string => humanDuration(Date.now() - Date.parse(iso));
  return recs.map((r) => {
    const st = states.get(r.Id)!;
    return {
      ID: o.noTrunc ? r.Id : r.Id.slice(0, 12),
      Image: r.ImageName,
      Command: quote([r.Path, ...r.Args].join(' '), !o.noTrunc),
      CreatedAt: new Date(r.Created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
      RunningFor: createdSince(new Date(r.Created)),
      Status: statusText(st, since, (iso) => createdSince(new Date(iso))),
      State: st.Status,
      Ports: '',
      Names: r.Name,
      Labels: Object.entries(r.Config.Labels).map(([k, v]) => `${k}=${v}`).join(','),
      Mounts: r.Mounts.map((m) => m.Source).join(','),
      Networks: r.HostConfig.NetworkMode,
      Size: '0B',
    };
  });
}

/** `docker container inspect` JSON for one container. */
export function inspectContainer(rec: ContainerRecord): Record<string, unknown> {
  const st = containerState(rec);
  return {
    Id: rec.Id,
    Created: rec.Created,
    Path: rec.Path,
    Args: rec.Args,
    State: st,
    Image: rec.Image,
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: rec.HostConfig.LogConfig?.Type === 'none' ? '' : containerFiles(rec.Id).log,
    Name: `/${rec.Name}`,
    RestartCount: readMonitor(rec.Id)?.restartCount ?? 0,
    Driver: 'overlay',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    HostConfig: rec.HostConfig,
    Mounts: rec.Mounts,
    Config: rec.Config,
    NetworkSettings: { Networks: { [rec.HostConfig.NetworkMode]: {} }, Ports: {}, IPAddress: '' },
  };
}
