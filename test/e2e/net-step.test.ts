/**
 * The shim's network step (container_start in addon/shim/cmd_run.c) with hand-written specs: a container
 * made by `skiff create`, its bundle given `skiff.network` (a plan from src/network's bridge backend) and
 * `skiff.networkStatusFile`, then run by the shim itself, in the foreground and as a detached monitor that
 * restarts it. Shows: the interfaces are configured before the command runs, a published port reaches
 * it, host ports are held for the container's whole life (across restarts) and free once exit.json says
 * it exited, a failed step leaves nothing at once, and after the final exit no link, table, DNS entry or
 * process is left. Rootful (the bridge backend); traffic goes only to loopback and 10.217.0.0/16.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { configure } from '../../src/config.js';
import { shimPath } from '../../src/native.js';
import { bridgeBackend } from '../../src/network/bridge.js';
import { holderOf, leasesOf } from '../../src/network/ipam.js';
import { hostIfName, portsTableName, type NetworkStatus } from '../../src/network/plan.js';
import { forwardsOf, parsePublish } from '../../src/network/ports.js';
import { createNetwork, defaultNetwork, listNetworks, type NetworkRecord } from '../../src/network/store.js';
import { containerFiles } from '../../src/store/containers.js';
import { dnsConfigDir } from '../../src/store/layout.js';
import { isRootless, processes, skiff, storeWithImage, until, type TempStore } from '../helpers/fixtures.js';
import { fetchText, hostLinks, hostTables, portFree } from '../helpers/netns.js';

const skip = isRootless() && 'the bridge backend needs root (rootless containers get pasta)';

interface Shim {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function startShim(args: string[]): Shim {
  const child = spawn(shimPath(), args, { stdio: ['ignore', 'pipe', 'pipe'], argv0: 'skiff-shim' });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

/** A port of 127.0.0.1 that is free now. */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('the shim\'s network step (rootful)', { skip }, () => {
  let store: TempStore;
  let image: string;
  const ids: string[] = [];
  let n = 0;

  before(async () => {
    ({ store, image } = await storeWithImage('busybox'));
    configure({ root: store.root, runroot: store.runroot });
    process.env.SKIFF_SUBNET_CLAIMS = `${store.root}-claims`;
    process.env.SKIFF_ADDRESS_POOLS = '10.217.0.0/16/24';
  });

  after(async () => {
    for (const id of ids) await bridgeBackend.teardown(id).catch(() => undefined);
    delete process.env.SKIFF_ADDRESS_POOLS;
    delete process.env.SKIFF_SUBNET_CLAIMS;
    await store.cleanup();
    fs.rmSync(`${store.root}-claims`, { recursive: true, force: true });
  });

  /** A created container whose spec carries the plan for `networks` (ports on the first). */
  async function container(cmd: string, networks: NetworkRecord[], publish: string[], aliases: string[] = [],
    edit: (spec: { skiff: Record<string, unknown> & { monitor: Record<string, unknown> } }) => void = () => undefined) {
    const name = `step${++n}`;
    const r = await skiff(['create', '--name', name, image, 'sh', '-c', cmd], { store });
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    ids.push(id);
    const prepared = await bridgeBackend.prepare({
      containerId: id,
      name,
      networks: networks.map((network) => ({ network, aliases })),
      forwards: forwardsOf(parsePublish(publish).bindings),
      holder: holderOf(),
    });
    const files = containerFiles(id);
    const statusFile = `${files.dir}/network.json`;
    const spec = JSON.parse(fs.readFileSync(files.spec, 'utf8')) as { skiff: Record<string, unknown> & { monitor: Record<string, unknown> } };
    spec.skiff.network = prepared.plan;
    spec.skiff.networkStatusFile = statusFile;
    edit(spec);
    fs.writeFileSync(files.spec, JSON.stringify(spec));
    const status = (): NetworkStatus => JSON.parse(fs.readFileSync(statusFile, 'utf8')) as NetworkStatus;
    return { id, name, files, prepared, status, monitor: spec.skiff.monitor };
  }

  /** What the step may leave on the host for these containers and networks: nothing, once `settled`. */
  function leftovers(cids: string[], nets: NetworkRecord[]): { links: string[]; tables: string[]; procs: string[] } {
    return {
      links: hostLinks([...nets.map((x) => x.Bridge), ...cids.map((id) => hostIfName(id, 0))]),
      tables: hostTables([...nets.map((x) => x.Table), ...cids.map(portsTableName)]),
      procs: processes((c) => c.includes(store.root) || c.includes(store.runroot)),
    };
  }
  const nothing = { links: [], tables: [], procs: [] };

  async function forgetLeases(cids: string[]): Promise<void> {
    // the CLI's part (its sweep, or rm): the shim tears down what it made, the addresses are the CLI's
    for (const id of cids) await bridgeBackend.teardown(id);
    for (const x of listNetworks()) assert.deepEqual(leasesOf(x.Name), [], `leases left on ${x.Name}`);
  }

  test('foreground: configured before the command runs, a published port reaches it, nothing left after the exit', async () => {
    const d = await defaultNetwork();
    const port = await freePort();
    const c = await container(
      'ip -o -4 addr show eth0; ip route; mkdir -p /www; echo from-the-container >/www/index.html; httpd -p 80 -h /www; ' +
        'echo ready; trap "exit 7" TERM; while :; do sleep 0.1; done',
      [d], [`127.0.0.1:${port}:80`]);
    const shim = startShim(['run', c.files.bundle]);
    await until('the container to be ready', () => shim.out().includes('ready\n') || shim.child.exitCode !== null, 20_000);
    assert.match(shim.out(), /^ready$/m, shim.err());
    const ip = c.prepared.addresses[0]!;
    const gw = d.IPAM.Config[0]!.Gateway;
    // what the command saw first thing: its address and default route were there before it ran
    assert.match(shim.out(), new RegExp(`eth0\\s+inet ${ip.replace(/\./g, '\\.')}/24 `));
    assert.match(shim.out(), new RegExp(`^default via ${gw.replace(/\./g, '\\.')} dev eth0`, 'm'));
    const st = c.status();
    assert.equal(st.interfaces[0]!.address, ip);
    assert.match(st.interfaces[0]!.mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    assert.deepEqual(st.ports, [{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: port, containerPort: 80 }]);
    assert.equal(await fetchText(`http://127.0.0.1:${port}/`), 'from-the-container\n');
    assert.equal(await portFree(port), false, 'the host port is held while the container runs');
    shim.child.kill('SIGTERM');
    assert.equal(await shim.exited, 7);
    assert.equal(JSON.parse(fs.readFileSync(c.files.exit, 'utf8')).exitCode, 7);
    assert.equal(await portFree(port), true, 'the host port is free once the exit is recorded');
    // the links, the network's table and bridge go in a detached child (deleting links waits for RCU)
    await until('the teardown', () => JSON.stringify(leftovers([c.id], [d])) === JSON.stringify(nothing), 10_000)
      .catch(() => undefined);
    assert.deepEqual(leftovers([c.id], [d]), nothing);
    await forgetLeases([c.id]);
  });

  test('a step that fails (a host port in use): one line, 125, and nothing of the start is left when it returns', async () => {
    const d = await defaultNetwork();
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const c = await container('echo should-not-run', [d], [`127.0.0.1:${port}:80`]);
      const shim = startShim(['run', c.files.bundle]);
      assert.equal(await shim.exited, 125);
      assert.equal(shim.out(), '');
      assert.match(shim.err(), new RegExp(`^Error: driver failed programming external connectivity on endpoint ${c.name} \\(${c.id.slice(0, 12)}\\): ` +
        `failed to bind host port for 127\\.0\\.0\\.1:${port}:10\\.217\\.\\d+\\.\\d+:80/tcp: address already in use\\n$`));
      const exit = JSON.parse(fs.readFileSync(c.files.exit, 'utf8')) as { exitCode: number; error: string };
      assert.equal(exit.exitCode, 125);
      assert.match(exit.error, /address already in use$/);
      // undone before the shim returned: the veth, the bridge this start made and its table, the container
      assert.deepEqual(leftovers([c.id], [d]), nothing);
      assert.equal(fs.existsSync(c.files.pid), false);
      await forgetLeases([c.id]);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  test('detached with a restart policy: every start is configured, names resolve, the host port stays held; the final exit leaves nothing', async () => {
    const u = await createNetwork({ name: 'step-user', subnet: '10.217.9.0/24' });
    const gw = u.IPAM.Config[0]!.Gateway;
    const port = await freePort();
    const c = await container(`ip -o -4 addr show eth0; nslookup web ${gw}; sleep 1; exit 3`, [u], [`127.0.0.1:${port}:80`], ['web'],
      (spec) => void (spec.skiff.monitor.restart = { policy: 'always', maxRetries: 0 }));
    const ip = c.prepared.addresses[0]!;
    const shim = startShim(['run', '--detach', c.files.bundle]);
    assert.equal(await shim.exited, 0, shim.err());
    const monitor = (): { monitorPid: number; restartCount: number; restarting: boolean } =>
      JSON.parse(fs.readFileSync(c.files.monitor, 'utf8'));
    await until('two restarts', () => fs.existsSync(c.files.monitor) && monitor().restartCount >= 2, 30_000);
    assert.equal(await portFree(port), false, 'the host port is held across restarts');
    const log = fs.readFileSync(c.files.log, 'utf8');
    const inet = log.split('\n').filter((l) => l.includes(`inet ${ip}/24`));
    assert.ok(inet.length >= 2, `every start has its address: ${log}`);
    assert.match(log, new RegExp(`Address: ${ip.replace(/\./g, '\\.')}`), 'its alias resolves through aardvark-dns');
    const aardvark = (): string[] => processes((cl) => cl.includes('aardvark-dns') && cl.includes(store.runroot));
    assert.equal(aardvark().length, 1);
    // stop it for good: the stop file, then the monitor's SIGTERM (wakes it in a backoff, else goes to the init)
    const { monitorPid } = monitor();
    fs.writeFileSync(String(c.monitor.stopFile), '');
    const pid = Number(fs.readFileSync(c.files.pid, 'utf8'));
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* between two starts */
    }
    process.kill(monitorPid, 'SIGTERM');
    await until('the monitor to end', () => !fs.existsSync(`/proc/${monitorPid}`), 20_000);
    assert.ok(fs.existsSync(c.files.exit));
    assert.equal(await portFree(port), true);
    await until('the teardown', () => JSON.stringify(leftovers([c.id], [u])) === JSON.stringify(nothing) && aardvark().length === 0, 10_000)
      .catch(() => undefined);
    assert.deepEqual(leftovers([c.id], [u]), nothing);
    assert.deepEqual(aardvark(), [], 'aardvark-dns stops with the last container of its networks');
    assert.equal(fs.existsSync(`${dnsConfigDir()}/${u.Name}`), false, 'the DNS entries are gone');
    await forgetLeases([c.id]);
  });
});
