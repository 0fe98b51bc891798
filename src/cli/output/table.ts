/** Docker-style tables and the `--format` rules shared by every listing command. */
import { SkiffError } from '../../errors.js';
import { compileTemplate, HEADER_FUNCS } from './template.js';

export interface TabwriterOptions {
  /** Minimal cell width including padding (Docker: 10). */
  minwidth?: number;
  /** Spaces added to the widest cell of a column (Docker: 3). */
  padding?: number;
}

/**
 * Go's text/tabwriter with a space pad character and no flags, as Docker's formatter configures it
 * (`tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`): text is split into lines and tab-terminated cells;
 * a column is a run of adjacent lines that all have a cell there, padded to its widest cell + padding
 * (at least `minwidth`); the text after a line's last tab is never padded.
 */
export function tabwrite(text: string, o: TabwriterOptions = {}): string {
  const minwidth = o.minwidth ?? 10;
  const padding = o.padding ?? 3;
  const lines = text.split('\n').map((l) => l.split('\t'));
  const width = (s: string): number => [...s].length;
  const widths: number[] = [];
  let out = '';
  const writeLines = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const cells = lines[i]!;
      cells.forEach((c, j) => {
        out += j < widths.length ? c + ' '.repeat(Math.max(0, widths[j]! - width(c))) : c;
      });
      if (i + 1 < lines.length) out += '\n';
    }
  };
  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let row = line0; row < line1; row++) {
      if (column >= lines[row]!.length - 1) continue;
      // a block of lines with a cell in this column starts here
      writeLines(line0, row);
      line0 = row;
      let w = minwidth;
      for (; row < line1; row++) {
        const cells = lines[row]!;
        if (column >= cells.length - 1) break;
        w = Math.max(w, width(cells[column]!) + padding);
      }
      widths.push(w);
      format(line0, row);
      widths.pop();
      line0 = row;
    }
    writeLines(line0, line1);
  };
  format(0, lines.length);
  return out;
}

/** A table like `docker ps`: headers and rows joined by tabs, through `tabwrite`. */
export function renderTable(headers: string[], rows: string[][]): string {
  return tabwrite([headers, ...rows].map((r) => r.join('\t') + '\n').join(''));
}

export interface TableColumn<T> {
  header: string;
  field: (item: T) => string;
}

export interface FormatOptions<T> {
  /** The user's `--format`: empty or `table` → default table, `json`, `table <template>`, or a template. */
  format?: string;
  defaultTable: TableColumn<T>[];
  /** `-q`: print only this per item (Docker ignores `--format` then, with a warning on stderr). */
  quiet?: (item: T) => string;
  /** Header names for `table {{.Field}}` columns that differ from the field name split and upper-cased. */
  headerNames?: Record<string, string>;
  /** Podman's --noheading: a table without its header row. */
  noHeading?: boolean;
}

/** Docker's header for a field with no explicit name: `CreatedAt` → `CREATED AT`, `ID` → `ID`. */
export function headerFor(field: string, names: Record<string, string> = {}): string {
  return names[field] ?? field.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2').toUpperCase();
}

/**
 * Docker's formatter rules: `table` prefix → a tabwriter table whose header row is the same template
 * rendered over the header names; `json` → `{{json .}}`; any other template → one line per item.
 * `\t` and `\n` typed literally in the format are turned into tab and newline first.
 */
export function formatOutput<T>(items: T[], o: FormatOptions<T>): string {
  const { quiet } = o;
  if (quiet) return items.map((i) => quiet(i) + '\n').join('');
  let format = o.format ?? '';
  if (format === '' || format === 'table') {
    const rows = items.map((i) => o.defaultTable.map((c) => c.field(i)));
    return o.noHeading ? tabwrite(rows.map((r) => r.join('\t') + '\n').join('')) : renderTable(o.defaultTable.map((c) => c.header), rows);
  }
  if (format === 'json') format = '{{json .}}';
  const isTable = format.startsWith('table');
  const body = (isTable ? format.slice('table'.length) : format).replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const template = compileTemplate(body);
  const rendered = items.map((i) => template.render(i) + '\n').join('');
  if (!isTable) return rendered;
  if (o.noHeading) return tabwrite(rendered);
  const headerData = Object.fromEntries(template.fields.map((f) => [f, headerFor(f, o.headerNames)]));
  const header = template.render(headerData, { funcs: HEADER_FUNCS, partial: true });
  return tabwrite(`${header}\n${rendered}`);
}

/**
 * Podman's `--sort KEY` for a listing: `keys` gives each key's sort value (numbers ascending, strings
 * ascending; a key whose value is negated sorts newest first). An unknown key is Podman's error.
 */
export function sortRows<T>(rows: T[], key: string | undefined, keys: Record<string, (row: T) => string | number>): T[] {
  if (key === undefined) return rows;
  const by = keys[key];
  if (!by) throw new SkiffError('EINVAL', `invalid option for --sort, options are: [${Object.keys(keys).join(' ')}]`);
  return [...rows].sort((a, b) => {
    const x = by(a);
    const y = by(b);
    return typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
  });
}

/** The bytes of a size as humanSize printed it (`1.98MB`), for sorting. */
export function sizeValue(text: string): number {
  const m = /^([\d.]+)\s*([kKMGTP]?)B$/.exec(text);
  if (!m) return 0;
  return Number(m[1]) * 1000 ** ' kMGTP'.indexOf(m[2]!.replace('K', 'k') || ' ');
}
