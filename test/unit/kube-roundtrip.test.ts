import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateFromContainers, planKube, containerFromRecord, type DockerContainerInput, type ContainerSpec, type PlannedContainer, type ImageDefaults } from '../../src/kube/index.js';
import { BUSYBOX, record } from '../helpers/kube.js';

/** What the round trip compares: the argv (image defaults resolved), env, ports, mounts, limits. */
function essentials(c: ContainerSpec, image: ImageDefaults = BUSYBOX): unknown {
  const ep = c.entrypoint ?? image.Entrypoint ?? [];
  const cmd = c.cmd ?? (c.entrypoint !== undefined ? [] : image.Cmd ?? []);
  return {
    argv: [...ep, ...cmd],
    env: c.env,
    ports: c.ports.map((p) => ({ containerPort: p.containerPort, protocol: p.protocol, hostPort: p.hostPort, hostIp: p.hostIp })),
    mounts: c.mounts,
    limits: { memory: c.memory, nanoCpus: c.nanoCpus, memoryReservation: c.memoryReservation, cpuShares: c.cpuShares, pidsLimit: c.pidsLimit },
    rest: { healthcheck: c.healthcheck, restart: c.restart, user: c.user, workingDir: c.workingDir, capAdd: c.capAdd, capDrop: c.capDrop, readOnlyRootfs: c.readOnlyRootfs, privileged: c.privileged, noNewPrivileges: c.noNewPrivileges, tty: c.tty, stdin: c.stdin, init: c.init, stopSignal: c.stopSignal, stopTimeout: c.stopTimeout },
  };
}

/** A played container in the same terms: its pod's published ports are its own (one container per generated pod). */
function played(c: PlannedContainer, podPorts: { hostPort: number; hostIp?: string; containerPort: number; protocol: string }[]): ContainerSpec {
  const ports = c.ports.map((p) => {
    const pub = podPorts.find((x) => x.containerPort === p.containerPort && x.protocol === p.protocol);
    return { ...p, ...(pub ? { hostPort: pub.hostPort, ...(pub.hostIp ? { hostIp: pub.hostIp } : {}) } : {}) };
  });
  return { ...c, ports };
}

const inputs: DockerContainerInput[] = [
  {
    record: record('web', {
      Config: {
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1', 'B=two words', 'C=$(not-expanded)', 'HOSTNAME=x'],
        Entrypoint: ['/bin/sh', '-c'],
        Cmd: ['exec httpd -f -p 80'],
        User: '1000:1000',
        WorkingDir: '/srv',
        StopSignal: 'SIGINT',
        StopTimeout: 5,
        Healthcheck: { Test: ['CMD', 'wget', '-q', '-O-', 'http://localhost/'], Interval: 1.5e9, Timeout: 2e9, StartPeriod: 0, Retries: 2 },
        ExposedPorts: { '80/tcp': {}, '53/udp': {}, '9000/tcp': {} },
      },
      HostConfig: {
        PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }] },
        Memory: 100 * 1024 * 1024,
        MemoryReservation: 50 * 1024 * 1024,
        NanoCpus: 0.25e9,
        CpuShares: 512,
        PidsLimit: 64,
        CapAdd: ['NET_ADMIN'],
        CapDrop: ['MKNOD'],
        ReadonlyRootfs: true,
        SecurityOpt: ['no-new-privileges'],
        Init: true,
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 },
        Tmpfs: { '/run': 'size=10m' },
      },
      Mounts: [
        { Type: 'volume', Name: 'data', Driver: 'local', Source: '/v/data/_data', Destination: '/data', Mode: '', RW: true, Propagation: '' },
        { Type: 'volume', Name: 'app_cache', Driver: 'local', Source: '/v/c/_data', Destination: '/cache', Mode: 'ro', RW: false, Propagation: '' },
        { Type: 'bind', Source: '/srv/site', Destination: '/www', Mode: 'ro', RW: false, Propagation: 'rprivate' },
        { Type: 'bind', Source: '/var/log/app', Destination: '/logs', Mode: '', RW: true, Propagation: 'rprivate' },
      ],
    }),
    image: BUSYBOX,
  },
  { record: record('plain', { Config: { Cmd: ['sleep', '3600'] } }), image: BUSYBOX },
  { record: record('shell'), image: BUSYBOX },
  { record: record('tty', { Config: { Tty: true, OpenStdin: true, User: 'nobody', Entrypoint: null, Cmd: ['top', '-b'] }, HostConfig: { RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 }, Privileged: true } }) },
];

test('round trip: play(generate(records)) gives the same command, env, ports, mounts and limits (and the rest Docker said)', () => {
  const gen = generateFromContainers(inputs);
  const plan = planKube(gen.yaml, { file: 'generated.yaml' });
  assert.equal(plan.pods.length, inputs.length);
  inputs.forEach((input, i) => {
    const pod = plan.pods[i]!;
    assert.equal(pod.containers.length, 1);
    const back = played(pod.containers[0]!, pod.ports);
    const before = containerFromRecord(input);
    assert.deepEqual(essentials(back, input.image ?? BUSYBOX), essentials(before, input.image ?? BUSYBOX), `container ${input.record.Name}`);
  });
  // the named volume whose name is no claim name came back under its own name
  assert.deepEqual(plan.volumes.map((v) => v.name), ['data', 'app_cache']);
});

test('round trip as a Deployment: the same container, restart policy kept by the annotation', () => {
  const gen = generateFromContainers([inputs[0]!], { type: 'deployment' });
  const plan = planKube(gen.yaml);
  const pod = plan.pods[0]!;
  assert.equal(pod.name, 'web-pod-0');
  assert.deepEqual(essentials(played(pod.containers[0]!, pod.ports)), essentials(containerFromRecord(inputs[0]!)));
});
