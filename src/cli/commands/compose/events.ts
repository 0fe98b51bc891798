/** `compose events [--json] [SERVICE...]`: the project's container events from skiff's event log, followed until interrupted. */
import { defineCommand } from '../../command.js';
import { composeExit, loadFromContext } from './project.js';

/** Go's time.Format("2006-01-02 15:04:05.000000") in local time (Docker Compose's text lines). */
function localMicros(nano: bigint): string {
  const d = new Date(Number(nano / 1_000_000n));
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const us = ((nano / 1000n) % 1_000_000n).toString().padStart(6, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${us}`;
}

/** Go's RFC3339Nano: the fraction without its trailing zeros (none: no dot). */
const goNano = (s: string): string =>
  s.replace(/\.(\d+)(Z|[+-]\d\d:\d\d)$/, (_m, f: string, z: string) => `${f.replace(/0+$/, '') ? `.${f.replace(/0+$/, '')}` : ''}${z}`);

export default defineCommand({
  group: 'compose',
  name: 'events',
  describe: 'Receive real time events from containers',
  usage: '[OPTIONS] [SERVICE...]',
  positionals: [{ name: 'service', variadic: true }],
  options: {
    json: { type: 'boolean', default: false, describe: 'Output events as a stream of json objects' },
    since: { type: 'string', describe: 'Show all events created since timestamp' },
    until: { type: 'string', describe: 'Stream events until this timestamp' },
  },
  handler: (o, { service }, ctx) =>
    composeExit(async () => {
      const project = await loadFromContext(ctx);
      if (service.length) (await import('../../../compose/engine/plan.js')).selectServices(project, service, true);
      const [{ projectEvents }, { parseLogTime }, { fixedNanoLocal, followToStdout }] = await Promise.all([
        import('../../../compose/engine/access.js'), import('../../../container/logs.js'), import('../system/events.js'),
      ]);
      const now = Date.now();
      const since = o.since !== undefined ? parseLogTime('since', o.since, now) : undefined;
      const until = o.until !== undefined ? parseLogTime('until', o.until, now) : undefined;
      // without --until (or with one ahead): followed until interrupted, as docker compose events
      await followToStdout(ctx, (stop) => projectEvents(project.name, { services: service, ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), stop }), (e) => {
        const keys = Object.keys(e.attributes).sort();
        // Go's json.Marshal of a map: keys sorted; time.Time as RFC 3339 with nanoseconds
        return `${o.json
          ? JSON.stringify({ action: e.action, attributes: Object.fromEntries(keys.map((k) => [k, e.attributes[k]])), id: e.id, service: e.service, time: goNano(fixedNanoLocal(e.timeNano)), type: 'container' })
          : `${localMicros(e.timeNano)} container ${e.action} ${e.id} (${keys.map((k) => `${k}=${e.attributes[k]}`).join(', ')})`}\n`;
      });
    }),
});
