/**
 * Docker's healthcheck ↔ Kubernetes' probes.
 *
 * generate: the test becomes an exec probe (`CMD a b` → [a, b]; `CMD-SHELL s` → [/bin/sh, -c, s], what
 * Docker runs), written as both the readinessProbe (Docker's meaning: the health status; Services route
 * to ready pods) and the livenessProbe (a cluster restarts a container whose liveness fails; Docker only
 * marks it unhealthy). Timings: periodSeconds = interval, timeoutSeconds = timeout, failureThreshold =
 * retries, initialDelaySeconds = start period (a cluster does not probe during it; Docker probes and
 * ignores failures). Docker's defaults (30s, 30s, 0s, 3) are written out, since Kubernetes' differ
 * (10s, 1s, 0s, 3). Nanoseconds round UP to whole seconds (at least 1 for period and timeout): a probe
 * never gets less time than its timeout nor runs more often than asked. When that changes a value (or
 * the check has a start interval, which probes lack) the exact healthcheck is kept as an annotation.
 *
 * play: the livenessProbe (else the readinessProbe, else the startupProbe) becomes the healthcheck with
 * Kubernetes' defaults; an exec of [/bin/sh, -c, s] is `CMD-SHELL s`; httpGet and tcpSocket probes become
 * shell commands run in the container (wget or curl; nc), as podman does.
 */
import type { HealthConfig } from '../store/containers.js';
import type { Probe } from './types.js';
import { nsToSeconds, secondsToNs } from './quantity.js';

export type DockerHealth = HealthConfig & { StartInterval?: number };

const DEFAULT_INTERVAL = 30e9;
const DEFAULT_TIMEOUT = 30e9;
const DEFAULT_RETRIES = 3;

/** The probe's command for a Docker test; undefined for NONE or an empty test (the image's). */
export function testToCommand(test: readonly string[] | undefined): string[] | undefined {
  if (!test || test.length === 0) return undefined;
  const [kind, ...rest] = test;
  if (kind === 'CMD') return rest.length ? rest : undefined;
  if (kind === 'CMD-SHELL') return rest.length ? ['/bin/sh', '-c', rest.join(' ')] : undefined;
  return undefined;
}

export interface ProbeResult {
  probe: Probe;
  /** false: whole seconds could not say the healthcheck exactly (keep it as an annotation). */
  exact: boolean;
}

export function healthToProbe(h: DockerHealth): ProbeResult | undefined {
  const command = testToCommand(h.Test);
  if (!command) return undefined;
  const interval = h.Interval || DEFAULT_INTERVAL;
  const timeout = h.Timeout || DEFAULT_TIMEOUT;
  const start = h.StartPeriod || 0;
  const probe: Probe = { exec: { command } };
  const period = nsToSeconds(interval, 1);
  const tmo = nsToSeconds(timeout, 1);
  const delay = nsToSeconds(start, 0);
  if (delay > 0) probe.initialDelaySeconds = delay;
  probe.periodSeconds = period;
  probe.timeoutSeconds = tmo;
  probe.failureThreshold = h.Retries || DEFAULT_RETRIES;
  const exact = secondsToNs(period) === interval && secondsToNs(tmo) === timeout && secondsToNs(delay) === start && !h.StartInterval;
  return { probe, exact };
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** A probe → Docker's healthcheck; `port` resolves a named port of the container. */
export function probeToHealth(p: Probe, port: (p: string | number) => number | undefined): DockerHealth | { unsupported: string } {
  let test: string[];
  if (p.exec?.command && p.exec.command.length > 0) {
    const c = p.exec.command;
    test = c.length === 3 && c[0] === '/bin/sh' && c[1] === '-c' ? ['CMD-SHELL', c[2]!] : ['CMD', ...c];
  } else if (p.httpGet) {
    const n = port(p.httpGet.port);
    if (n === undefined) return { unsupported: `httpGet port ${JSON.stringify(p.httpGet.port)} names no port of the container` };
    const scheme = (p.httpGet.scheme ?? 'HTTP').toLowerCase();
    const host = p.httpGet.host ?? 'localhost';
    const pathPart = p.httpGet.path ?? '/';
    const url = shellQuote(`${scheme}://${host.includes(':') ? `[${host}]` : host}:${n}${pathPart.startsWith('/') ? '' : '/'}${pathPart}`);
    test = ['CMD-SHELL', `wget -q -O /dev/null ${url} || curl -fsS -o /dev/null ${url}`];
  } else if (p.tcpSocket) {
    const n = port(p.tcpSocket.port);
    if (n === undefined) return { unsupported: `tcpSocket port ${JSON.stringify(p.tcpSocket.port)} names no port of the container` };
    test = ['CMD-SHELL', `nc -z ${shellQuote(p.tcpSocket.host ?? 'localhost')} ${n}`];
  } else {
    return { unsupported: p.grpc ? 'grpc probes are not supported' : 'the probe has no handler' };
  }
  const h: DockerHealth = {
    Test: test,
    Interval: secondsToNs(p.periodSeconds ?? 10),
    Timeout: secondsToNs(p.timeoutSeconds ?? 1),
    Retries: p.failureThreshold ?? 3,
  };
  if (p.initialDelaySeconds) h.StartPeriod = secondsToNs(p.initialDelaySeconds);
  return h;
}

/** The exact healthcheck kept in an annotation, when it still describes the probe (same test). */
export function healthFromAnnotation(text: string | undefined, probe: DockerHealth): DockerHealth | undefined {
  if (text === undefined) return undefined;
  try {
    const h = JSON.parse(text) as DockerHealth;
    const same = Array.isArray(h.Test) && JSON.stringify(testToCommand(h.Test)) === JSON.stringify(testToCommand(probe.Test));
    return same ? h : undefined;
  } catch {
    return undefined;
  }
}
