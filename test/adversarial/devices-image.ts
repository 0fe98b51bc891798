/**
 * Malicious images that hold device nodes, made with tools independent of skiff: Python's tarfile
 * writes a layer of character and block device entries, umoci appends it (`raw add-layer`) to a copy
 * of the busybox fixture that skopeo made, and skopeo pushes the result to the test registry. Works
 * as root and as the rootless test user (no node is ever made on disk: only tar headers).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures, registry } from '../helpers/fixtures.js';

export interface DeviceNode {
  /** path in the image, without the leading slash: "loop0" */
  name: string;
  type: 'b' | 'c';
  major: number;
  minor: number;
}

// writes the layer: argv[1] = output tar, argv[2] = JSON list of DeviceNode
const LAYER_PY = `
import json, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as t:
    for n in json.loads(sys.argv[2]):
        ti = tarfile.TarInfo(n['name'])
        ti.type = tarfile.BLKTYPE if n['type'] == 'b' else tarfile.CHRTYPE
        ti.devmajor, ti.devminor, ti.mode, ti.mtime = n['major'], n['minor'], 0o666, 0
        t.addfile(ti)
`;

const run = (cmd: string, args: string[]): void => {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

/** busybox plus one layer holding `nodes` (mode 0666, root-owned); returns its reference in the test registry. */
export function pushDeviceImage(nodes: DeviceNode[], repo = 'adversarial/devices'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-adv-devices-'));
  try {
    const oci = path.join(dir, 'oci');
    run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${fixtures().busybox}`, `oci:${oci}:base`]);
    const layer = path.join(dir, 'devices.tar');
    run('python3', ['-c', LAYER_PY, layer, JSON.stringify(nodes)]);
    run('umoci', ['raw', 'add-layer', '--image', `${oci}:base`, '--tag', 'devices', layer]);
    const ref = `${registry()}/${repo}:${process.pid}-${Date.now().toString(36)}`;
    run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${oci}:devices`, `docker://${ref}`]);
    return ref;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
