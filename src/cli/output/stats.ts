/** The rows of `stats` (Docker's columns and --format fields) from two samples. */
import { cpuPercent, type StatsSample } from '../../container/stats.js';
import { bytesSize, formatFloat, humanSize } from '../../lib/units.js';

export interface StatsRow {
  Container: string;
  ID: string;
  Name: string;
  CPUPerc: string;
  MemUsage: string;
  MemPerc: string;
  NetIO: string;
  BlockIO: string;
  PIDs: string;
}

const pct = (x: number): string => `${formatFloat(x, 'f', 2)}%`;

export function statsRow(pre: StatsSample | undefined, cur: StatsSample, given?: string): StatsRow {
  if (!cur.running) {
    return {
      Container: given ?? cur.id.slice(0, 12), ID: cur.id.slice(0, 12), Name: cur.name, CPUPerc: pct(0), MemUsage: '0B / 0B',
      MemPerc: pct(0), NetIO: '0B / 0B', BlockIO: '0B / 0B', PIDs: '0',
    };
  }
  return {
    Container: given ?? cur.id.slice(0, 12),
    ID: cur.id.slice(0, 12),
    Name: cur.name,
    CPUPerc: pct(cpuPercent(pre, cur)),
    MemUsage: `${bytesSize(cur.memUsage)} / ${bytesSize(cur.memLimit)}`,
    MemPerc: pct(cur.memLimit > 0 ? (cur.memUsage / cur.memLimit) * 100 : 0),
    NetIO: `${humanSize(cur.netRx)} / ${humanSize(cur.netTx)}`,
    BlockIO: `${humanSize(cur.blkRead)} / ${humanSize(cur.blkWrite)}`,
    PIDs: String(cur.pids),
  };
}

export const STATS_HEADERS: Record<string, string> = {
  Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};

export const STATS_COLUMNS: (keyof StatsRow)[] = ['ID', 'Name', 'CPUPerc', 'MemUsage', 'MemPerc', 'NetIO', 'BlockIO', 'PIDs'];
