/**
 * The Engine API's stats: container/stats.ts samples in Docker's JSON shape (cpu_stats with the
 * previous sample as precpu_stats, memory_stats, blkio_stats, pids_stats, networks), one object
 * (`stream=false`: two samples apart so CPU % means something; `one-shot=true`: one sample) or a
 * stream of one a second until the client leaves or the container is gone.
 */
import { sampleStats, type StatsSample } from '../container/stats.js';
import { findContainer, readContainer } from '../store/containers.js';
import { queryBool } from './http.js';
import type { Route } from './router.js';

const STATS_INTERVAL_MS = 1000;
const ZERO_TIME = '0001-01-01T00:00:00Z';

function cpuStats(s: StatsSample | undefined): Record<string, unknown> {
  return {
    cpu_usage: { total_usage: s?.cpuNs ?? 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    system_cpu_usage: s?.systemNs ?? 0,
    online_cpus: s?.cpus ?? 0,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
}

/** One sample as Docker's stats object (`pre`: the one before, for CPU %). */
export function statsJson(cur: StatsSample, pre: StatsSample | undefined, read: Date, preread: Date | undefined): Record<string, unknown> {
  return {
    read: cur.running ? read.toISOString() : ZERO_TIME,
    preread: preread && pre?.running ? preread.toISOString() : ZERO_TIME,
    pids_stats: cur.running ? { current: cur.pids } : {},
    blkio_stats: {
      io_service_bytes_recursive: cur.running
        ? [{ major: 0, minor: 0, op: 'read', value: cur.blkRead }, { major: 0, minor: 0, op: 'write', value: cur.blkWrite }]
        : null,
      io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null,
      io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(cur.running ? cur : undefined),
    precpu_stats: cpuStats(pre?.running ? pre : undefined),
    memory_stats: cur.running ? { usage: cur.memUsage, stats: {}, limit: cur.memLimit } : {},
    name: `/${cur.name}`,
    id: cur.id,
    ...(cur.running
      ? { networks: { eth0: { rx_bytes: cur.netRx, rx_packets: 0, rx_errors: 0, rx_dropped: 0, tx_bytes: cur.netTx, tx_packets: 0, tx_errors: 0, tx_dropped: 0 } } }
      : {}),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const statsRoutes: Route[] = [
  {
    method: 'GET', path: /^\/containers\/([^/]+)\/stats$/,
    handle: async ({ params, query, sink, closed }) => {
      const rec = findContainer(params[0]!);
      const stream = queryBool(query, 'stream', true);
      let pre: StatsSample | undefined;
      let preread: Date | undefined;
      if (!stream && !queryBool(query, 'one-shot')) {
        pre = sampleStats(rec);
        preread = new Date();
        await sleep(STATS_INTERVAL_MS / 2);
      }
      const out = sink('application/json');
      for (;;) {
        const cur = sampleStats(rec);
        const read = new Date();
        if (!out.write(Buffer.from(JSON.stringify(statsJson(cur, pre, read, preread)) + '\n'))) await out.drain();
        if (!stream) break;
        [pre, preread] = [cur, read];
        await sleep(STATS_INTERVAL_MS);
        if (closed() || !readContainer(rec.Id)) break;
      }
      out.end();
    },
  },
];
