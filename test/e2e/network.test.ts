/**
 * Networking through the CLI, as a Docker user meets it: the default network with a published port
 * reached from the host at 127.0.0.1 (`port`, `ps` PORTS, inspect), user-defined networks whose
 * containers find each other by name and alias (and not on the default network), outbound traffic
 * to a server the test runs on the host, `--network none|host`, Docker's errors, and nothing left
 * behind (links, nf_tables tables, leases, aardvark-dns) after rm, --rm and a failed run.
 * Rootful: the native bridge backend; rootless: pasta on the default network, and user-defined networks
 * in the rootless network namespace (published ports through a pasta of its holder's), reached from the
 * host and from other containers (host-gateway, the host's address).
 * Traffic goes only to loopback, the host's own addresses (its bridge gateways, the address of its default
 * route's interface; rootless, the default gateway, which pasta maps to the host's loopback) and the
 * test's own containers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { isRootless, processes, skiff, storeWithImage, tempStore, until, type TempStore } from '../helpers/fixtures.js';
import { fetchText, freePort, hostLinks, hostServer, hostTables, portFree } from '../helpers/netns.js';
import { hostIfName, retiredName } from '../../src/network/plan.js';

const HTTPD = (text: string): string => `mkdir -p /w && echo ${text} >/w/index.html && exec httpd -f -p 80 -h /w`;

describe('networking through the CLI', () => {
  let store: TempStore;
  let image: string;
  const run = (args: string[]) => skiff(args, { store });
  const ok = async (args: string[]): Promise<string> => {
    const r = await run(args);
    assert.equal(r.code, 0, `skiff ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    ({ store, image } = await storeWithImage('busybox'));
    // a pool of the test's own: the default network and networks without --subnet come from here
    store.env.SKIFF_ADDRESS_POOLS = '10.216.0.0/16/24';
  });
  after(async () => {
    await run(['rm', '-f', ...(await run(['ps', '-aq'])).stdout.split('\n').filter(Boolean)]).catch(() => undefined);
    await store.cleanup();
  });

  /** The store's leases, links and tables of its networks and containers, aardvark-dns of its runroot. */
  function leftovers(ids: string[]): { leases: string[]; markers: string[]; links: string[]; tables: string[]; procs: string[] } {
    const dir = path.join(store.root, 'networks');
    const leaseDir = path.join(dir, 'leases');
    const leases = fs.existsSync(leaseDir) ? fs.readdirSync(leaseDir) : [];
    const downDir = path.join(dir, 'down');
    return {
      leases,
      // the shim's marks of finished teardowns (bridge.ts sweep): consumed by the sweep that forgets the leases
      markers: fs.existsSync(downDir) ? fs.readdirSync(downDir) : [],
      // the veths, and the bridges their teardowns retired (renamed until deleted: plan.ts retiredName)
      links: hostLinks(ids.flatMap((id) => [hostIfName(id, 0), retiredName(hostIfName(id, 0))])),
      tables: hostTables(ids.map((id) => `skiff_p_${id.slice(0, 12)}`)),
      procs: processes((c) => c.includes('aardvark') && c.includes(store.runroot)),
    };
  }
  const nothing = { leases: [], markers: [], links: [], tables: [], procs: [] };
  /** What a published port that is not served looks like from the host: the container's state and log,
   * pasta's processes, and the listening TCP sockets of the host and of the container's namespace. */
  async function why(name: string, port: number): Promise<string> {
    const ins = JSON.parse((await run(['inspect', name])).stdout || '[{}]')[0] ?? {};
    const st = ins.State ?? {};
    const cid = String(ins.Id ?? name);
    const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
    const listening = (file: string): string => {
      try {
        return fs.readFileSync(file, 'utf8').split('\n').filter((l) => / 0A /.test(l)).map((l) => l.trim().split(/\s+/)[1]).join(' ');
      } catch (e) {
        return String(e);
      }
    };
    return [
      `state: ${JSON.stringify(st)}`,
      `logs: ${JSON.stringify(await run(['logs', name]))}`,
      `pasta: ${JSON.stringify(processes((c) => /pasta/.test(c.split(' ')[0])))}`,
      `host listens on the port: ${fs.readFileSync('/proc/net/tcp', 'utf8').includes(hex)}`,
      `container listens on: ${st.Pid ? `${listening(`/proc/${st.Pid}/net/tcp`)} ${listening(`/proc/${st.Pid}/net/tcp6`)}` : '-'}`,
      `monitor.json: ${(() => {
        try {
          return fs.readFileSync(path.join(store.root, 'containers', cid, 'monitor.json'), 'utf8');
        } catch (e) {
          return String(e);
        }
      })()}`,
      `shims: ${JSON.stringify(processes((c) => c.includes('skiff-shim')))}`,
    ].join('\n');
  }
  async function settled(ids: string[]): Promise<void> {
    // each `network ls` sweeps what finished containers left (a teardown still running when one
    // looked is found by the next)
    await until('nothing left', async () => {
      await ok(['network', 'ls']);
      return JSON.stringify(leftovers(ids)) === JSON.stringify(nothing) || undefined;
    }, 15_000).catch(() => undefined);
    assert.deepEqual(leftovers(ids), nothing);
  }

  test('a published port on the default network reaches the container from the host; port, ps, inspect show it', async () => {
    const port = await freePort();
    const id = (await ok(['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port}:80`, '--expose', '81', image, 'sh', '-c', HTTPD('hello-from-web')])).trim();
    // httpd listens some time after run -d returns; fetchText answers an error's code (ECONNREFUSED)
    // as its text, so wait for the page itself
    const page = async (): Promise<string> => fetchText(`http://127.0.0.1:${port}/`, 2000);
    let last = '';
    await until('httpd', async () => ((last = await page()) === 'hello-from-web\n' ? true : undefined), 20_000).catch(async (e: Error) => {
      throw new Error(`${e.message}: the last fetch gave ${JSON.stringify(last)}\n${await why('web', port)}`);
    });
    assert.equal(await page(), 'hello-from-web\n');
    assert.equal(await ok(['port', 'web']), `80/tcp -> 127.0.0.1:${port}\n`);
    assert.equal(await ok(['port', 'web', '80']), `127.0.0.1:${port}\n`);
    const none = await run(['port', 'web', '82/tcp']);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, "Error: No public port '82/tcp' published for web\n");
    assert.match(await ok(['ps']), new RegExp(`127\\.0\\.0\\.1:${port}->80/tcp, 81/tcp\\s+web`));
    const ins = JSON.parse(await ok(['inspect', 'web']))[0];
    assert.deepEqual(ins.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] });
    assert.deepEqual(ins.NetworkSettings.Ports, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }], '81/tcp': null });
    if (!isRootless()) {
      assert.match(ins.NetworkSettings.IPAddress, /^10\.216\.\d+\.\d+$/);
      assert.equal(ins.NetworkSettings.Networks.bridge.IPAddress, ins.NetworkSettings.IPAddress);
      // Docker's MAC of the address: a restart keeps both, so the host's neighbour entry stays right
      const mac = ['02', '42', ...ins.NetworkSettings.IPAddress.split('.').map((b: string) => Number(b).toString(16).padStart(2, '0'))].join(':');
      assert.equal(ins.NetworkSettings.MacAddress, mac);
      // the container's /etc/hosts names it with its address
      const hosts = await ok(['exec', 'web', 'cat', '/etc/hosts']);
      assert.match(hosts, new RegExp(`^${ins.NetworkSettings.IPAddress.replace(/\./g, '\\.')}\\t${id.slice(0, 12)}$`, 'm'));
    }
    assert.equal(await portFree(port), false);
    await ok(['rm', '-f', 'web']);
    assert.equal(await portFree(port), true, 'the host port is free after rm');
    await settled([id]);
  });

  test('outbound: a container reaches a server the test runs on the host (gateway)', async () => {
    if (isRootless()) {
      // pasta: the default gateway stands for the host's loopback
      const srv = await hostServer('127.0.0.1', 'from-the-host');
      try {
        const out = await ok(['run', '--rm', image, 'sh', '-c', `wget -qO- http://$(ip route | awk '/^default/{print $3}'):${srv.port}/`]);
        assert.equal(out, 'from-the-host');
      } finally {
        await srv.close();
      }
      return;
    }
    const id = (await ok(['run', '-d', image, 'sleep', '60'])).trim();
    const gw = JSON.parse(await ok(['inspect', id]))[0].NetworkSettings.Gateway as string;
    const srv = await hostServer(gw, 'from-the-host');
    try {
      assert.equal(await ok(['exec', id, 'wget', '-qO-', `http://${gw}:${srv.port}/`]), 'from-the-host');
    } finally {
      await srv.close();
    }
    await ok(['rm', '-f', id]);
    await settled([id]);
  });

  test("a container's first command finds its network configured (rootless: pasta's interface, address and route are waited for, the rest of pasta's start is not)", async () => {
    const out = await ok(['run', '--rm', image, 'sh', '-c', 'ip -4 route; ip -4 -o addr']);
    assert.match(out, /^default via \d+\.\d+\.\d+\.\d+ dev \S+/m);
    assert.match(out, /inet (?!127\.)\d+\.\d+\.\d+\.\d+\//);
  });

  /** Rootless: the holder of the rootless network namespace and its waiting child, while any process is in it. */
  const netnsHolder = (): string[] => processes((c) => c.includes(`netns ${path.join(store.runroot, 'netns')} `));

  test('user-defined network: names and aliases resolve between containers, not on the default network; -p on it', async () => {
    const nid = (await ok(['network', 'create', '--subnet', '10.218.7.0/24', '--label', 'test=net', 'tnet'])).trim();
    assert.match(nid, /^[0-9a-f]{64}$/);
    const dup = await run(['network', 'create', 'tnet']);
    assert.equal(dup.code, 125);
    assert.equal(dup.stderr, 'Error: network with name tnet already exists\n');
    assert.match(await ok(['network', 'ls']), /^[0-9a-f]{12}\s+tnet\s+bridge\s+local$/m);
    assert.equal(await ok(['network', 'ls', '-q', '--filter', 'label=test=net', '--no-trunc']), `${nid}\n`);
    assert.equal(await ok(['network', 'ls', '--filter', 'name=tnet', '--format', '{{.Name}} {{.Driver}}']), 'tnet bridge\n');
    const srv = (await ok(['run', '-d', '--name', 'srv', '--network', 'tnet', '--network-alias', 'webalias', '--ip', '10.218.7.50', image, 'sh', '-c', HTTPD('by-name')])).trim();
    const cli = await ok(['run', '--rm', '--network', 'tnet', image, 'sh', '-c',
      'for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://srv/ && break; sleep 0.3; done; wget -qO- http://webalias/; nslookup srv | grep -c 10.218.7.50']);
    assert.equal(cli, 'by-name\nby-name\n1\n');
    const ins = JSON.parse(await ok(['network', 'inspect', 'tnet']))[0];
    assert.equal(ins.Containers[srv].Name, 'srv');
    assert.equal(ins.Containers[srv].IPv4Address, '10.218.7.50/24');
    assert.deepEqual(ins.Labels, { test: 'net' });
    if (isRootless()) assert.notDeepEqual(netnsHolder(), [], 'the rootless network namespace holds the network');
    // a published port of a container on the user network (rootless: a pasta of the holder's forwards it)
    const port = await freePort();
    const pub = (await ok(['run', '-d', '--name', 'pub', '--network', 'tnet', '-p', `127.0.0.1:${port}:80`, image, 'sh', '-c', HTTPD('published')])).trim();
    const page = async (): Promise<string> => fetchText(`http://127.0.0.1:${port}/`, 2000);
    await until('the published page', async () => ((await page()) === 'published\n' ? true : undefined), 20_000);
    assert.equal(await page(), 'published\n');
    assert.equal(await ok(['port', 'pub', '80']), `127.0.0.1:${port}\n`);
    // a restart is a new namespace: the forward follows it
    await ok(['restart', '-t', '1', 'pub']);
    await until('the published page after a restart', async () => ((await page()) === 'published\n' ? true : undefined), 20_000);
    // a host port another process holds: Docker's words, exit 125
    const taken = net.createServer();
    const takenPort = await new Promise<number>((r) => taken.listen(0, '127.0.0.1', () => r((taken.address() as net.AddressInfo).port)));
    try {
      const busy = await run(['run', '-d', '--name', 'busy', '--network', 'tnet', '-p', `127.0.0.1:${takenPort}:80`, image, 'sleep', '30']);
      assert.equal(busy.code, 125);
      assert.match(busy.stderr, new RegExp(`^Error: driver failed programming external connectivity on endpoint busy \\([0-9a-f]{12}\\): .*${takenPort}.*address already in use\n$`));
    } finally {
      taken.close();
    }
    // rootless: a host port below net.ipv4.ip_unprivileged_port_start, in Docker's rootless words
    const start = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
    if (isRootless() && start > 1) {
      const low = await run(['run', '-d', '--name', 'low', '--network', 'tnet', '-p', `${start - 1}:80`, image, 'sleep', '30']);
      assert.equal(low.code, 125);
      assert.equal(low.stderr, `Error: cannot expose privileged port ${start - 1}, you can add 'net.ipv4.ip_unprivileged_port_start=${start - 1}' to /etc/sysctl.conf (currently ${start}), or choose a larger port number (>= ${start})\n`);
      await ok(['rm', '-f', 'low']);
    }
    await ok(['rm', '-f', 'pub', 'busy']);
    assert.equal(await portFree(port), true, 'the host port is free after rm');
    // the default network has no names (Docker's rule); the lookup goes to the container's own loopback only
    const dflt = await run(['run', '--rm', '--dns', '127.0.0.1', image, 'nslookup', 'srv']);
    assert.notEqual(dflt.code, 0);
    const inUse = await run(['network', 'rm', 'tnet']);
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /^Error: error while removing network: network tnet has active endpoints \(name:"srv" id:"[0-9a-f]{12}"\)\n$/);
    await ok(['rm', '-f', 'srv']);
    assert.equal(await ok(['network', 'rm', 'tnet']), 'tnet\n');
    const gone = await run(['network', 'inspect', 'tnet']);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, 'Error: network tnet not found\n');
    await settled([srv, pub]);
    // rootless: the namespace's holder and pasta went with the last process in it, and its files
    await until('the holder gone', async () => (netnsHolder().length === 0 ? true : undefined), 15_000).catch(() => undefined);
    assert.deepEqual(netnsHolder(), []);
    if (isRootless()) assert.deepEqual(fs.existsSync(path.join(store.runroot, 'netns')) ? fs.readdirSync(path.join(store.runroot, 'netns')) : [], []);
  });

  /** The host's own IPv4 address on the interface of its default route (traffic to it stays on the host), if any. */
  function hostAddress(): string | undefined {
    const line = fs.readFileSync('/proc/net/route', 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/)).find((f) => f[1] === '00000000');
    return line ? os.networkInterfaces()[line[0]!]?.find((a) => a.family === 'IPv4')?.address : undefined;
  }

  test('a port published on a user network is reached from other containers through host-gateway (default network, another user network) and at the host\'s own address', async () => {
    await ok(['network', 'create', '--subnet', '10.218.11.0/24', 'pubnet']);
    await ok(['network', 'create', '--subnet', '10.218.12.0/24', 'othernet']);
    const port = await freePort();
    const id = (await ok(['run', '-d', '--name', 'served', '--network', 'pubnet', '-p', `${port}:80`, image, 'sh', '-c', HTTPD('served-page')])).trim();
    const page = async (host: string): Promise<string> => fetchText(`http://${host}:${port}/`, 2000);
    await until('the published page', async () => ((await page('127.0.0.1')) === 'served-page\n' ? true : undefined), 20_000);
    // host-gateway: rootful the gateway of the container's first network (an address of the host's),
    // rootless the host (pasta maps its gateway to the host's loopback, where the forward listens)
    const fetch = `wget -qO- http://h:${port}/`;
    assert.equal(await ok(['run', '--rm', '--add-host', 'h:host-gateway', image, 'sh', '-c', fetch]), 'served-page\n');
    assert.equal(await ok(['run', '--rm', '--network', 'othernet', '--add-host', 'h:host-gateway', image, 'sh', '-c', fetch]), 'served-page\n');
    // a connection from other than the host's loopback (rootless: not spliced; it comes through the
    // forward's tap) is served, and the forward still serves afterwards
    const addr = hostAddress();
    if (addr) {
      assert.equal(await page(addr), 'served-page\n');
      assert.equal(await page(addr), 'served-page\n');
      assert.equal(await page('127.0.0.1'), 'served-page\n');
      // from another user network at that address (rootless: the namespace's copy of it, the ports' rules there)
      assert.equal(await ok(['run', '--rm', '--network', 'othernet', image, 'wget', '-qO-', `http://${addr}:${port}/`]), 'served-page\n');
    }
    await ok(['rm', '-f', 'served']);
    assert.equal(await portFree(port, '0.0.0.0'), true, 'the host port is free after rm');
    await ok(['network', 'rm', 'pubnet', 'othernet']);
    await settled([id]);
  });

  test('network connect/disconnect on a running container', async () => {
    await ok(['network', 'create', '--subnet', '10.218.8.0/24', 'cnet']);
    // rootless: a container on the default network (pasta) cannot join user networks; one on another user network can
    if (isRootless()) {
      await ok(['network', 'create', '--subnet', '10.218.9.0/24', 'cnet0']);
      const other = (await ok(['run', '-d', '--name', 'other', image, 'sleep', '60'])).trim();
      const mix = await run(['network', 'connect', 'cnet', 'other']);
      assert.equal(mix.code, 1);
      assert.equal(mix.stderr, 'Error: rootless containers cannot be on the default network (pasta) and on user-defined networks at once: choose one or the other\n');
      await ok(['rm', '-f', other]);
    }
    const id = (await ok(['run', '-d', '--name', 'conn', ...(isRootless() ? ['--network', 'cnet0'] : []), image, 'sleep', '60'])).trim();
    await ok(['network', 'connect', '--ip', '10.218.8.9', 'cnet', 'conn']);
    assert.match(await ok(['exec', 'conn', 'ip', '-4', '-o', 'addr']), /eth1\s+inet 10\.218\.8\.9\/24/);
    const again = await run(['network', 'connect', 'cnet', 'conn']);
    assert.equal(again.code, 1);
    await ok(['network', 'disconnect', 'cnet', 'conn']);
    assert.doesNotMatch(await ok(['exec', 'conn', 'ip', '-4', '-o', 'addr']), /10\.218\.8\./);
    await ok(['rm', '-f', 'conn']);
    await ok(['network', 'rm', 'cnet', ...(isRootless() ? ['cnet0'] : [])]);
    await settled([id]);
  });

  test('--network none has loopback only; host shares the host\'s links and warns about -p', async () => {
    assert.equal(await ok(['run', '--rm', '--network', 'none', image, 'ls', '/sys/class/net']), 'lo\n');
    // the host's links before and after (other containers on the machine come and go meanwhile)
    const before = fs.readdirSync('/sys/class/net');
    const host = await run(['run', '--rm', '--network', 'host', '-p', '8080:80', image, 'ls', '/sys/class/net']);
    const after = fs.readdirSync('/sys/class/net');
    assert.equal(host.code, 0, host.stderr);
    assert.equal(host.stderr, 'WARNING: Published ports are discarded when using host network mode\n');
    const seen = host.stdout.split('\n').filter(Boolean);
    assert.deepEqual(seen.filter((l) => !before.includes(l) && !after.includes(l)), [], 'links the host never had');
    assert.deepEqual(before.filter((l) => after.includes(l) && !seen.includes(l)), [], 'links of the host the container did not see');
  });

  test("errors: Docker's words, exit 125, nothing left", async () => {
    const unknown = await run(['run', '--rm', '--network', 'nope', image, 'true']);
    assert.equal(unknown.code, 125);
    assert.equal(unknown.stderr, 'Error: network nope not found\n');
    assert.equal(await ok(['ps', '-aq']), '');
    const badPort = await run(['run', '--rm', '-p', '70000:80', image, 'true']);
    assert.equal(badPort.code, 125);
    assert.match(badPort.stderr, /^Error: .*70000.*\n$/);
    if (!isRootless()) {
      const ipDefault = await run(['run', '--rm', '--ip', '10.216.0.9', image, 'true']);
      assert.equal(ipDefault.code, 125);
      assert.equal(ipDefault.stderr, 'Error: invalid endpoint settings: user specified IP address is supported on user defined networks only\n');
    } else {
      await ok(['network', 'create', 'rlnet']);
      const r = await run(['run', '--rm', '--network', 'bridge', '--network', 'rlnet', image, 'true']);
      assert.equal(r.code, 125);
      assert.equal(r.stderr, 'Error: rootless containers cannot be on the default network (pasta) and on user-defined networks at once: choose one or the other\n');
      await ok(['network', 'rm', 'rlnet']);
    }
    // a port already taken: the run fails, and its network goes with it
    const port = await freePort();
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(port, '127.0.0.1', () => r()));
    try {
      const taken = await run(['run', '--rm', '-p', `127.0.0.1:${port}:80`, image, 'true']);
      assert.equal(taken.code, 125);
      assert.match(taken.stderr, /^Error: .*(address already in use|[Aa]ddress in use)/);
    } finally {
      await new Promise((r) => holder.close(r));
    }
    await settled([]);
  });

  test('rootless: a pasta that fails before it configured the namespace (a UDP host port taken) fails the run, with its reason', { skip: !isRootless() && 'pasta is the rootless backend' }, async () => {
    const holder = dgram.createSocket('udp4');
    await new Promise<void>((r) => holder.bind(0, '127.0.0.1', () => r()));
    try {
      const r = await run(['run', '--rm', '-p', `127.0.0.1:${holder.address().port}:53/udp`, image, 'true']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /^Error: .*pasta.*Failed to bind any port/);
    } finally {
      await new Promise<void>((r) => holder.close(() => r()));
    }
    assert.equal(await ok(['ps', '-aq']), '');
  });

  test("rootless: a pasta that ends while its container runs is recorded with its reason (monitor.json's pastaEnded); rm then signals nothing else", { skip: !isRootless() && 'pasta is the rootless backend' }, async () => {
    const port = await freePort();
    const id = (await ok(['run', '-d', '-p', `127.0.0.1:${port}:80`, image, 'sleep', '60'])).trim();
    const pid = JSON.parse(await ok(['inspect', id]))[0].State.Pid as number;
    // this container's pasta: the monitor's child that targets the init
    const pasta = processes((c) => /pasta/.test(c.split(' ')[0]!) && c.trimEnd().endsWith(` ${pid}`));
    assert.equal(pasta.length, 1, JSON.stringify(pasta));
    const pastaPid = Number(pasta[0]!.split(' ')[0]);
    process.kill(pastaPid, 'SIGKILL');
    const file = path.join(store.root, 'containers', id, 'monitor.json');
    const state = await until('the monitor to record the end of pasta', () => {
      const j = JSON.parse(fs.readFileSync(file, 'utf8')) as { pastaEnded?: string };
      return j.pastaEnded;
    }, 10_000);
    assert.equal(state, 'pasta was killed by signal 9 (Killed)');
    // the container runs on, without its network (as a Podman one whose pasta died)
    assert.equal(JSON.parse(await ok(['inspect', id]))[0].State.Status, 'running');
    await ok(['rm', '-f', id]);
    assert.equal(await ok(['ps', '-aq']), '');
  });

  test('--rm: the network of a finished container goes with it', async () => {
    const out = await ok(['run', '--rm', '--name', 'gone', image, 'sh', '-c', 'ip -4 -o addr show eth0 >/dev/null 2>&1 || ip -4 -o addr; echo done']);
    assert.equal(out, 'done\n');
    await settled([]);
  });

  test('a finished container\'s final teardown leaves a mark, and the next sweep forgets its lease by it', { skip: isRootless() && 'pasta holds no lease' }, async () => {
    const id = (await ok(['run', '-d', '--rm', image, 'true'])).trim();
    const mark = path.join(store.root, 'networks', 'down', id);
    // made (and locked) as the teardown starts, "done" once it has undone everything
    await until('the shim\'s mark of its teardown', () => (fs.existsSync(mark) && fs.readFileSync(mark, 'utf8') === 'done\n') || undefined, 15_000);
    const leases = (): string => fs.readdirSync(path.join(store.root, 'networks', 'leases')).map((f) => fs.readFileSync(path.join(store.root, 'networks', 'leases', f), 'utf8')).join('');
    assert.ok(leases().includes(id), 'the lease waits for a sweep');
    // the lease is stale once its holder (the monitor) has exited too; a sweep then forgets it and the mark
    await until('a sweep to forget the lease', async () => {
      await ok(['network', 'ls']);
      return !fs.existsSync(path.join(store.root, 'networks', 'leases')) || !leases().includes(id) || undefined;
    }, 15_000);
    assert.equal(fs.existsSync(mark), false);
    await settled([id]);
  });

  test('back-to-back run --rm on the default network: their veths, the bridges their teardowns retired and the bridge itself go', async () => {
    // the hostname of a container is its short id: the names of its links
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await ok(['run', '--rm', image, 'hostname'])).trim());
    assert.equal(new Set(ids).size, 4);
    await settled(ids);
    const rec = path.join(store.root, 'networks', 'bridge.json');
    if (isRootless() || !fs.existsSync(rec) || (await ok(['ps', '-q'])) !== '') return; // pasta; or still in use
    const bridge = (JSON.parse(fs.readFileSync(rec, 'utf8')) as { Bridge: string }).Bridge;
    await until('the bridge to go', () => hostLinks([bridge]).length === 0 || undefined, 10_000).catch(() => undefined);
    assert.deepEqual(hostLinks([bridge]), [], 'the default network\'s bridge goes with its last container');
  });

  test('a container started again right after it stopped keeps its network: the earlier start\'s teardown leaves its new veth and DNS entry alone', async () => {
    await ok(['network', 'create', 'quick']);
    const a = (await ok(['run', '-d', '--name', 'qa', '--network', 'quick', image, 'sh', '-c', HTTPD('qa-here')])).trim();
    const b = (await ok(['run', '-d', '--name', 'qb', '--network', 'quick', image, 'sleep', '300'])).trim();
    for (let i = 0; i < 3; i++) {
      await ok(['stop', '-t', '0', 'qa']);
      await ok(['start', 'qa']);
    }
    await ok(['restart', '-t', '0', 'qa']);
    // the earlier starts' teardowns run in children of their monitors (qa's monitor's command line)
    await until('the earlier teardowns to end', () => processes((c) => c.includes(a)).length === 1 || undefined, 15_000);
    if (!isRootless()) assert.deepEqual(hostLinks([hostIfName(a, 0)]), [hostIfName(a, 0)], 'its veth');
    const got = async (): Promise<string> => (await run(['exec', 'qb', 'wget', '-qO-', 'http://qa/'])).stdout;
    await until('qa by name from qb', async () => ((await got()) === 'qa-here\n' ? true : undefined), 20_000).catch(() => undefined);
    assert.equal(await got(), 'qa-here\n');
    await ok(['rm', '-f', 'qa', 'qb']);
    await ok(['network', 'rm', 'quick']);
    await settled([a, b]);
  });

  test('run --network USERNET of an image not pulled yet pulls it, and --pull always pulls again (rootless: before entering the namespace, so a registry on the host\'s loopback is reached)', async () => {
    const fresh = await tempStore();
    try {
      fresh.env.SKIFF_ADDRESS_POOLS = '10.217.0.0/16/24';
      const sk = (args: string[]) => skiff(args, { store: fresh });
      assert.equal((await sk(['network', 'create', 'pullnet'])).code, 0);
      const r = await sk(['run', '--rm', '--network', 'pullnet', image, 'echo', 'pulled-and-ran']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'pulled-and-ran\n');
      assert.match(r.stderr, new RegExp(`^Unable to find image '${image.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' locally\n`));
      // --pull always asks the registry again (rootless: from outside the namespace too)
      const again = await sk(['run', '--rm', '--pull', 'always', '--network', 'pullnet', image, 'echo', 'pulled-again']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout, 'pulled-again\n');
      assert.match(again.stderr, /Status: Image is up to date for /);
      assert.equal((await sk(['network', 'rm', 'pullnet'])).code, 0);
    } finally {
      await fresh.cleanup();
    }
  });
});
