/**
 * Start-up trace: with SKIFF_TRACE_STARTUP=1 the run path prints `skiff-trace <phase> <ms>` lines
 * to stderr, milliseconds since the process started (performance.timeOrigin). bench/run.sh uses
 * them for its breakdown (node start, module load, create, shim and container); `system service`
 * marks its start-up and its first request (service-loaded, listening, first-request, first-answer).
 */
const on = process.env.SKIFF_TRACE_STARTUP === '1';

export function mark(phase: string): void {
  if (on) process.stderr.write(`skiff-trace ${phase} ${performance.now().toFixed(2)}\n`);
}
