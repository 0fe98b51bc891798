/**
 * Start-up trace: with SKIFF_TRACE_STARTUP=1 the run path prints `skiff-trace <phase> <ms>` lines
 * to stderr, milliseconds since the process started (performance.timeOrigin). bench/run.sh uses
 * them for its breakdown (node start, module load, create, shim and container). The network step
 * marks net-sweep, net-prepare, net-files (the CLI's part) and net (done); the shim then prints one
 * `skiff-trace-net PHASE MS ...` line with its own phases (lock, bridge, firewall, veth, inside, dns,
 * ports, pasta: durations), printed by `run -d` from the status the detached shim wrote (network.json).
 * The shim's start sequence prints `skiff-trace-shim PHASE MS ...` (addon/shim/trace.c: ms since the
 * shim's main() when each phase ended: loaded, cloned, mapped, mounted, cgroups, network, go, exec),
 * which `run -d` passes on from the detached shim's stderr.
 * `system service` marks its start-up and its first request (service-loaded, listening, first-request,
 * first-answer).
 */
const on = process.env.SKIFF_TRACE_STARTUP === '1';

export function mark(phase: string): void {
  if (on) process.stderr.write(`skiff-trace ${phase} ${performance.now().toFixed(2)}\n`);
}

/** The shim's network phases (network.json's timingsUs), as the shim's own `skiff-trace-net` line. */
export function traceNet(timingsUs: Record<string, number> | undefined): void {
  if (!on || !timingsUs) return;
  const parts = Object.entries(timingsUs).map(([k, v]) => ` ${k} ${(v / 1000).toFixed(2)}`);
  process.stderr.write(`skiff-trace-net${parts.join('')}\n`);
}

/** The detached shim's `skiff-trace-shim` line (in its stderr, which is otherwise shown only on failure). */
export function traceShim(stderr: string): void {
  if (!on) return;
  for (const line of stderr.split('\n')) if (line.startsWith('skiff-trace-shim ')) process.stderr.write(`${line}\n`);
}
