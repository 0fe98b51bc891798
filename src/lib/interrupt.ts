/**
 * Ctrl-C and `kill`: the commands that run until interrupted (`events`, `compose watch`, attached
 * `compose up`) send SIGINT and SIGTERM to one handler while their work runs, and only then; outside
 * it Node's default (exit on the signal) applies again.
 */
export async function whileHandlingInterrupts<T>(onInterrupt: () => void, work: () => Promise<T>): Promise<T> {
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  try {
    return await work();
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}
