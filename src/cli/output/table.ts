/** Docker-style tables and the `--format` rules shared by every listing command. */
import { compileTemplate } from './template.js';

/** Columns padded like Go's tabwriter with padding 3. */
export function renderTable(headers: string[], rows: string[][]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd())
    .join('\n') + '\n';
}

export interface FormatOptions<T> {
  format?: string;
  defaultTable: { header: string; field: (item: T) => string }[];
  quiet?: (item: T) => string;
  /** Header names for `table {{.Field}}` columns that differ from the upper-cased field name. */
  headerNames?: Record<string, string>;
}

function headerFor(expr: string, names: Record<string, string>): string {
  const m = /^\{\{\s*\.(\w+)\s*\}\}$/.exec(expr.trim());
  if (!m) return expr.replace(/\{\{\s*\.?(\w*)[^}]*\}\}/g, (_, f: string) => (names[f] ?? f.replace(/([a-z])([A-Z])/g, '$1 $2')).toUpperCase());
  const f = m[1]!;
  return names[f] ?? f.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}

export function formatOutput<T>(items: T[], o: FormatOptions<T>): string {
  if (o.quiet) return items.map((i) => o.quiet!(i) + '\n').join('');
  const format = o.format === 'json' ? '{{json .}}' : o.format;
  if (!format || format === 'table') {
    return renderTable(o.defaultTable.map((c) => c.header), items.map((i) => o.defaultTable.map((c) => c.field(i))));
  }
  if (format.startsWith('table')) {
    const body = format.slice(5).trim().replace(/\\t/g, '\t');
    const cols = body.split('\t');
    const templates = cols.map((c) => compileTemplate(c));
    const headers = cols.map((c) => headerFor(c, o.headerNames ?? {}));
    return renderTable(headers, items.map((i) => templates.map((t) => t.render(i))));
  }
  const t = compileTemplate(format.replace(/\\t/g, '\t').replace(/\\n/g, '\n'));
  return items.map((i) => t.render(i) + '\n').join('');
}
