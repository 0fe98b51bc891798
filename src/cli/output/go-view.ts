/**
 * What an `inspect --format` template sees: Docker's CLI runs it over Go structs, where every field
 * exists (its zero value when the JSON leaves it out: `{{.Config.StopSignal}}` is "", `{{if
 * .State.Health}}` is false) and `.ID` is the field behind the JSON key `Id`. The JSON skiff prints
 * stays as it is: the view adds the missing fields as non-enumerable properties, which templates read
 * and `{{json .}}` does not print.
 */

type Obj = Record<string, unknown>;
/** A struct's fields with their zero values; a nested Shape is a nested struct (zero: all its fields zero). */
interface Shape {
  [field: string]: unknown;
}
const STRUCT = Symbol('struct');
const struct = (fields: Shape): Shape => Object.assign(Object.create(null) as Shape, fields, { [STRUCT]: true });
const isShape = (v: unknown): v is Shape => typeof v === 'object' && v !== null && STRUCT in v;

/** container.Config (also an image's Config) */
const CONFIG = struct({
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, ExposedPorts: null,
  Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Healthcheck: null, ArgsEscaped: false, Image: '',
  Volumes: null, WorkingDir: '', Entrypoint: null, NetworkDisabled: false, MacAddress: '', OnBuild: null, Labels: null,
  StopSignal: '', StopTimeout: null, Shell: null,
});

const STATE = struct({
  Status: '', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0, ExitCode: 0,
  Error: '', StartedAt: '', FinishedAt: '', Health: null,
});

const GRAPH_DRIVER = struct({ Name: '', Data: null });

const CONTAINER = struct({
  Created: '', Path: '', Args: null, State: STATE, Image: '', ResolvConfPath: '', HostnamePath: '', HostsPath: '',
  LogPath: '', Node: null, Name: '', RestartCount: 0, Driver: '', Platform: '', MountLabel: '', ProcessLabel: '',
  AppArmorProfile: '', ExecIDs: null, GraphDriver: GRAPH_DRIVER, SizeRw: null, SizeRootFs: null, Mounts: null, Config: CONFIG,
});

const IMAGE = struct({
  RepoTags: null, RepoDigests: null, Parent: '', Comment: '', Created: '', Container: '', DockerVersion: '', Author: '',
  Config: CONFIG, Architecture: '', Variant: '', Os: '', OsVersion: '', Size: 0, GraphDriver: GRAPH_DRIVER,
  RootFS: struct({ Type: '', Layers: null }), Metadata: struct({ LastTagTime: '' }),
});

const NETWORK = struct({
  Name: '', Created: '', Scope: '', Driver: '', EnableIPv6: false, Internal: false, Attachable: false, Ingress: false,
  ConfigOnly: false, Containers: null, Options: null, Labels: null,
});

const VOLUME = struct({ CreatedAt: '', Driver: '', Labels: null, Mountpoint: '', Name: '', Options: null, Scope: '' });

/** Which of Docker's inspect structs a JSON object is (by the keys only that one has). */
function shapeOf(o: Obj): Shape | undefined {
  if ('State' in o && 'HostConfig' in o) return CONTAINER;
  if ('RepoTags' in o && 'RootFS' in o) return IMAGE;
  if ('IPAM' in o && 'Driver' in o) return NETWORK;
  if ('Mountpoint' in o && 'Driver' in o) return VOLUME;
  return undefined;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function hidden(o: Obj, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: false, configurable: true, writable: true });
}

/** A copy of `o` in which every field of `shape` exists (missing ones non-enumerable, at their zero value). */
function withShape(o: Obj, shape: Shape): Obj {
  const out: Obj = { ...o };
  for (const [k, zero] of Object.entries(shape)) {
    const has = out[k] !== undefined; // (a key set to undefined is one JSON leaves out)
    if (isShape(zero)) {
      if (!has) hidden(out, k, withShape({}, zero));
      else if (isObj(out[k])) out[k] = withShape(out[k], zero);
    } else if (!has) hidden(out, k, zero);
  }
  return out;
}

/** The object a template renders for one inspected item (anything not one of Docker's structs as it is). */
export function goView(item: unknown): unknown {
  if (!isObj(item)) return item;
  const shape = shapeOf(item);
  if (!shape) return item;
  const out = withShape(item, shape);
  if ('Id' in out && !('ID' in out)) hidden(out, 'ID', out.Id); // Go's field ID, JSON's "Id"
  return out;
}
