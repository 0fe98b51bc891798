/** The Engine API's create body → the CLI's create options: HostConfig's resource fields and devices. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOptionsFromApi } from '../../src/api/convert.js';
import { ApiError } from '../../src/api/http.js';

const create = (hc: Record<string, unknown>) => createOptionsFromApi({ Image: 'busybox', HostConfig: hc }, new URLSearchParams());

test('resource fields as the CLI\'s flags; the zeros and nulls Docker\'s client sends for the rest change nothing', () => {
  const o = create({
    Memory: 67108864, MemorySwap: -1, MemoryReservation: 0, NanoCpus: 1500000000, CpuShares: 0, CpuPeriod: 0, CpuQuota: 0,
    CpusetCpus: '', CpusetMems: '', PidsLimit: null, BlkioWeight: 300, OomKillDisable: null, OomScoreAdj: 0, ShmSize: 0,
    BlkioDeviceReadBps: [{ Path: '/dev/sda', Rate: 1048576 }], BlkioDeviceWriteBps: null, BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [{ Path: '/dev/sda', Rate: 200 }], Ulimits: [{ Name: 'nofile', Soft: 512, Hard: 1024 }],
    Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/xnull', CgroupPermissions: 'r' }, { PathOnHost: '/dev/zero' }],
  });
  assert.deepEqual(o.resources, {
    memory: '67108864', memorySwap: '-1', blkioWeight: '300', deviceReadBps: ['/dev/sda:1048576'], deviceWriteBps: [],
    deviceReadIops: [], deviceWriteIops: ['/dev/sda:200'], oomKillDisable: false, ulimits: ['nofile=512:1024'], cpus: '1.5',
  });
  assert.deepEqual(o.devices, ['/dev/null:/dev/xnull:r', '/dev/zero:/dev/zero:rwm']);
  assert.deepEqual(create({}).resources, {
    deviceReadBps: [], deviceWriteBps: [], deviceReadIops: [], deviceWriteIops: [], oomKillDisable: false, ulimits: [],
  });
});

test('a wrong type is a 400', () => {
  for (const hc of [{ Memory: '1g' }, { Ulimits: { Name: 'nofile' } }, { BlkioDeviceReadBps: [{ Path: '/dev/sda', Rate: -1 }] }, { Devices: 'x' }]) {
    assert.throws(() => create(hc), (e: unknown) => e instanceof ApiError && e.status === 400, JSON.stringify(hc));
  }
});

test('namespace modes, sysctls and groups as the CLI\'s flags; the empty strings Docker\'s client sends change nothing', () => {
  const o = create({
    PidMode: 'host', IpcMode: 'container:abc', UTSMode: 'host', CgroupnsMode: 'private', CgroupParent: '/p', UsernsMode: '',
    Sysctls: { 'net.ipv4.ip_forward': '1' }, GroupAdd: ['staff', '50'],
  });
  assert.deepEqual(
    { pid: o.pid, ipc: o.ipc, uts: o.uts, cgroupns: o.cgroupns, cgroupParent: o.cgroupParent, userns: o.userns, sysctls: o.sysctls, groupAdd: o.groupAdd },
    { pid: 'host', ipc: 'container:abc', uts: 'host', cgroupns: 'private', cgroupParent: '/p', userns: undefined, sysctls: ['net.ipv4.ip_forward=1'], groupAdd: ['staff', '50'] },
  );
  const none = create({ PidMode: '', IpcMode: '', UTSMode: '', CgroupnsMode: '', CgroupParent: '' });
  assert.deepEqual([none.pid, none.ipc, none.uts, none.cgroupns, none.cgroupParent, none.sysctls, none.groupAdd], [undefined, undefined, undefined, undefined, undefined, [], []]);
  assert.throws(() => create({ Sysctls: { k: 1 } }), (e: unknown) => e instanceof ApiError && e.status === 400);
});
