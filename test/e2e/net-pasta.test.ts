/**
 * The rootless network backend in isolation: a user+network namespace made here as the test user,
 * pasta started for it by `skiff-shim net setup --hold` (src/network/pasta.ts), busybox httpd inside,
 * fetched from the host at 127.0.0.1 through the published port. Afterwards no pasta, holder or
 * bound port is left. Only loopback is used.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { configure } from '../../src/config.js';
import { holderOf } from '../../src/network/ipam.js';
import { checkTun, pastaBackend } from '../../src/network/pasta.js';
import { forwardsOf, parsePublish } from '../../src/network/ports.js';
import { defaultNetwork } from '../../src/network/store.js';
import { isRootless, processes, until } from '../helpers/fixtures.js';
import { fetchText, httpdIn, makeNetns, portFree } from '../helpers/netns.js';

const skip = !isRootless() && 'pasta is the rootless backend (the rootful one: net-bridge.test.ts)';

describe('pasta (rootless)', { skip }, () => {
  let base: string;
  before(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-net-pasta-'));
    configure({ root: path.join(base, 'root'), runroot: path.join(base, 'run') });
  });
  after(() => fs.rmSync(base, { recursive: true, force: true }));

  const freePort = async (): Promise<number> => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const p = (s.address() as net.AddressInfo).port;
    await new Promise((r) => s.close(r));
    return p;
  };

  test('published port: the host fetches from the namespace at 127.0.0.1; release stops pasta and frees the port', async () => {
    const ns = await makeNetns();
    try {
      const port = await freePort();
      const prepared = await pastaBackend.prepare({
        containerId: 'ab'.repeat(32),
        name: 'rootless',
        networks: [{ network: await defaultNetwork(), aliases: [] }],
        forwards: forwardsOf(parsePublish([`127.0.0.1:${port}:80`, '8081']).bindings),
        holder: holderOf(),
      });
      assert.equal(prepared.plan.pasta?.args.includes(`127.0.0.1/${port}:80`), true);
      // where net.ipv4.ping_group_range lets no group open ICMP echo sockets pasta could answer no ping:
      // its ICMP half is skipped (and the port below is served all the same)
      const [low, high] = fs.readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8').trim().split(/\s+/).map(Number);
      assert.equal(prepared.plan.pasta?.args.includes('--no-icmp'), low! > high!);
      const handle = await pastaBackend.setup(prepared, ns.pid);
      const pasta = (): string[] => processes((c) => /^\S*(pasta|passt)\S* /.test(c) && c.trimEnd().endsWith(` ${ns.pid}`));
      assert.equal(typeof handle.status.pasta, 'number');
      assert.equal(pasta().length, 1);
      // pasta configured the namespace: an address and a default route copied from the host
      assert.match(ns.exec(['ip', 'route']).stdout, /^default via /m);
      await httpdIn(ns, path.join(base, 'www'), 'from the rootless namespace');
      assert.equal(await fetchText(`http://127.0.0.1:${port}/`), 'from the rootless namespace');
      assert.equal(await portFree(port), false);
      await handle.release();
      await until('pasta to end', () => pasta().length === 0, 10_000);
      assert.equal(await portFree(port), true);
    } finally {
      await ns.close();
    }
    assert.deepEqual(processes((c) => c.includes(base)), [], 'processes left (holder, httpd)');
  });

  test("a port below net.ipv4.ip_unprivileged_port_start: Docker's rootless error, nothing started", async () => {
    const start = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
    if (start <= 1) return; // every port is unprivileged here: nothing to refuse
    const low = start - 1;
    await assert.rejects(
      pastaBackend.prepare({
        containerId: 'cd'.repeat(32),
        name: 'low',
        networks: [{ network: await defaultNetwork(), aliases: [] }],
        forwards: forwardsOf(parsePublish([`${low}:80`]).bindings),
        holder: holderOf(),
      }),
      {
        message: `cannot expose privileged port ${low}, you can add 'net.ipv4.ip_unprivileged_port_start=${low}' to /etc/sysctl.conf (currently ${start}), or choose a larger port number (>= ${start})`,
      },
    );
  });

  test('a tun device that is missing or not usable: one line naming it', () => {
    assert.throws(() => checkTun(path.join(base, 'no-tun')), {
      message: `${path.join(base, 'no-tun')} does not exist: rootless containers need it for their network (as root: chmod 0666 ${path.join(base, 'no-tun')}, as Debian's udev rules and scripts/setup-debian.sh do), or use --network none`,
    });
    const locked = path.join(base, 'locked-tun');
    fs.writeFileSync(locked, '', { mode: 0o200 }); // write-only, as a 0600 root device is for the user
    assert.throws(() => checkTun(locked), /locked-tun is not readable and writable by this user/);
    checkTun(); // the machine's own is usable (the suite's setup makes it so)
  });
});
