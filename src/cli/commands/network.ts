/** `network create|ls|inspect|rm|prune|connect|disconnect` and `port`: thin, the logic is in src/network/ and src/container/network.ts. */
import type { CommandModule } from 'yargs';
import { connectNetwork, disconnectNetwork, portMap } from '../../container/network.js';
import { containerState } from '../../container/state.js';
import { describeError, SkiffError } from '../../errors.js';
import { lazyBuiltin } from '../../lib/lazy.js';
import { backendFor } from '../../network/backends.js';
import { allNetworks, filterNetworks, findView, inspectNetwork, pruneNetworks, removeNetwork } from '../../network/manage.js';
import { splitProtoPort } from '../../network/ports.js';
import { createNetwork } from '../../network/store.js';
import { findContainer } from '../../store/containers.js';
import { formatOutput } from '../output/table.js';
import { compileTemplate } from '../output/template.js';
import { parseLabels } from '../../container/options.js';
import { list } from './run-options.js';

const readlinePromises = lazyBuiltin<typeof import('node:readline/promises')>('node:readline/promises');

/** Containers whose holder died leave addresses, links and DNS entries: cleaned first (cheap when there are none). */
async function sweep(): Promise<void> {
  await (await backendFor()).sweep();
}

const create: CommandModule = {
  command: 'create <name>',
  describe: 'Create a network',
  builder: (y) =>
    y.positional('name', { type: 'string' })
      .option('driver', { alias: 'd', type: 'string', default: 'bridge', describe: 'Driver to manage the Network' })
      .option('subnet', { type: 'string', describe: 'Subnet in CIDR format that represents a network segment' })
      .option('gateway', { type: 'string', describe: 'IPv4 Gateway for the master subnet' })
      .option('ip-range', { type: 'string', describe: 'Allocate container ip from a sub-range' })
      .option('internal', { type: 'boolean', default: false, describe: 'Restrict external access to the network' })
      .option('label', { type: 'string', describe: 'Set metadata on a network' })
      .option('opt', { alias: 'o', type: 'string', describe: 'Set driver specific options' })
      .option('attachable', { type: 'boolean', default: false, describe: 'Enable manual container attachment' }),
  handler: async (a) => {
    if (a.driver !== 'bridge') throw new SkiffError('EINVAL', `plugin "${String(a.driver)}" not found: skiff has the bridge driver only`);
    const one = (k: string): string | undefined => {
      const v = list(a[k]);
      if (v.length > 1) throw new SkiffError('EINVAL', `--${k}: one value only (skiff networks have one IPv4 subnet)`);
      return v[0];
    };
    await sweep();
    const rec = await createNetwork({
      name: String(a.name),
      ...(one('subnet') !== undefined ? { subnet: one('subnet')! } : {}),
      ...(one('gateway') !== undefined ? { gateway: one('gateway')! } : {}),
      ...(one('ip-range') !== undefined ? { ipRange: one('ip-range')! } : {}),
      internal: Boolean(a.internal),
      labels: parseLabels(list(a.label)),
      options: parseLabels(list(a.opt)),
    });
    process.stdout.write(`${rec.Id}\n`);
  },
};

const ls: CommandModule = {
  command: 'ls',
  aliases: ['list'],
  describe: 'List networks',
  builder: (y) =>
    y.option('filter', { alias: 'f', type: 'string', describe: "Provide filter values (e.g. 'driver=bridge')" })
      .option('format', { type: 'string', describe: 'Format output using a Go template' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Only display network IDs' })
      .option('no-trunc', { type: 'boolean', default: false, describe: 'Do not truncate the output' }),
  handler: async (a) => {
    await sweep();
    const id = (x: string): string => (a['no-trunc'] ? x : x.slice(0, 12));
    const rows = filterNetworks(await allNetworks(), list(a.filter)).map((n) => ({
      ID: id(n.Id), Name: n.Name, Driver: n.Driver, Scope: n.Scope, IPv6: 'false', Internal: String(n.Internal),
      Labels: Object.entries(n.Labels).map(([k, v]) => `${k}=${v}`).join(','),
      CreatedAt: new Date(n.Created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
    }));
    process.stdout.write(formatOutput(rows, {
      format: a.format as string | undefined,
      quiet: a.quiet ? (r) => r.ID : undefined,
      defaultTable: [
        { header: 'NETWORK ID', field: (r) => r.ID },
        { header: 'NAME', field: (r) => r.Name },
        { header: 'DRIVER', field: (r) => r.Driver },
        { header: 'SCOPE', field: (r) => r.Scope },
      ],
      headerNames: { ID: 'NETWORK ID', CreatedAt: 'CREATED AT' },
    }));
  },
};

const inspect: CommandModule = {
  command: 'inspect <network..>',
  describe: 'Display detailed information on one or more networks',
  builder: (y) => y.positional('network', { type: 'string', array: true }).option('format', { alias: 'f', type: 'string', describe: 'Format output using a Go template' }),
  handler: async (a) => {
    const results: Record<string, unknown>[] = [];
    let failed = false;
    for (const ref of list(a.network)) {
      try {
        results.push(inspectNetwork(findView(ref)));
      } catch (e) {
        failed = true;
        process.stderr.write(`Error: ${describeError(e)}\n`);
      }
    }
    if (a.format && a.format !== 'json') {
      const t = compileTemplate(String(a.format));
      process.stdout.write(results.map((r) => t.render(r) + '\n').join(''));
    } else process.stdout.write(JSON.stringify(results, null, 4) + '\n');
    if (failed) process.exitCode = 1;
  },
};

const rm: CommandModule = {
  command: 'rm <network..>',
  aliases: ['remove'],
  describe: 'Remove one or more networks',
  builder: (y) => y.positional('network', { type: 'string', array: true }).option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Do not error if the network does not exist' }),
  handler: async (a) => {
    await sweep();
    let failed = false;
    for (const ref of list(a.network)) {
      try {
        process.stdout.write(`${await removeNetwork(ref)}\n`);
      } catch (e) {
        if (a.force && e instanceof SkiffError && e.code === 'ENONETWORK') continue;
        failed = true;
        process.stderr.write(`Error: ${describeError(e)}\n`);
      }
    }
    if (failed) process.exitCode = 1;
  },
};

const prune: CommandModule = {
  command: 'prune',
  describe: 'Remove all unused networks',
  builder: (y) =>
    y.option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Do not prompt for confirmation' })
      .option('filter', { type: 'string', describe: "Provide filter values (e.g. 'until=<timestamp>')" }),
  handler: async (a) => {
    if (!a.force && process.stdin.isTTY) {
      const rl = readlinePromises().createInterface({ input: process.stdin, output: process.stdout });
      const answer = await rl.question('WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ');
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) return;
    }
    await sweep();
    const gone = await pruneNetworks(list(a.filter));
    if (gone.length) process.stdout.write(`Deleted Networks:\n${gone.map((n) => `${n}\n`).join('')}`);
  },
};

const connect: CommandModule = {
  command: 'connect <network> <container>',
  describe: 'Connect a container to a network',
  builder: (y) =>
    y.positional('network', { type: 'string' }).positional('container', { type: 'string' })
      .option('alias', { type: 'string', describe: 'Add network-scoped alias for the container' })
      .option('ip', { type: 'string', describe: 'IPv4 address (e.g., 172.30.100.104)' }),
  handler: async (a) => {
    await sweep();
    await connectNetwork(String(a.network), String(a.container), { aliases: list(a.alias), ...(a.ip !== undefined ? { ip: String(a.ip) } : {}) });
  },
};

const disconnect: CommandModule = {
  command: 'disconnect <network> <container>',
  describe: 'Disconnect a container from a network',
  builder: (y) =>
    y.positional('network', { type: 'string' }).positional('container', { type: 'string' })
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Force the container to disconnect from a network' }),
  handler: async (a) => {
    await sweep();
    await disconnectNetwork(String(a.network), String(a.container));
  },
};

export const networkGroup: CommandModule = {
  command: 'network <command>',
  describe: 'Manage networks',
  builder: (y) => y.command([create, ls, inspect, rm, prune, connect, disconnect]).demandCommand(1),
  handler: () => undefined,
};

/** `port CONTAINER [PRIVATE_PORT[/PROTO]]`: Docker's lines. */
export const port: CommandModule = {
  command: 'port <container> [port]',
  describe: 'List port mappings or a specific mapping for the container',
  builder: (y) => y.positional('container', { type: 'string' }).positional('port', { type: 'string' }),
  handler: async (a) => {
    const rec = findContainer(String(a.container));
    const map = portMap(rec, containerState(rec).Running);
    const addr = (b: { HostIp: string; HostPort: string }): string => `${b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp}:${b.HostPort}`;
    if (a.port !== undefined) {
      const [proto, p] = splitProtoPort(String(a.port));
      const key = `${p}/${proto}`;
      const binds = map[key];
      if (!binds?.length) throw new SkiffError('EINVAL', `No public port '${key}' published for ${String(a.container)}`, 1);
      process.stdout.write(binds.map((b) => `${addr(b)}\n`).join(''));
      return;
    }
    const lines: string[] = [];
    for (const [key, binds] of Object.entries(map).sort(([x], [y]) => parseInt(x, 10) - parseInt(y, 10))) {
      for (const b of binds ?? []) lines.push(`${key} -> ${addr(b)}\n`);
    }
    process.stdout.write(lines.join(''));
  },
};
