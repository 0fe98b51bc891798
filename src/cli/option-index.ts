/** What both option parsers (the fast one, options.ts, and the pflag one, parse.ts) look options up by. */

/** An option's other names: one letter (`-e`) or more long names (`--net`). */
export const aliasesOf = (o: { alias?: string | readonly string[] }): readonly string[] =>
  o.alias === undefined ? [] : typeof o.alias === 'string' ? [o.alias] : o.alias;

const indexes = new WeakMap<object, Map<string, [string, unknown]>>();

/** Every name and alias of a table's options → [long name, spec] (made once per table). */
export function optionIndex<S extends { alias?: string | readonly string[] }>(table: Readonly<Record<string, S>>): Map<string, [string, S]> {
  let m = indexes.get(table) as Map<string, [string, S]> | undefined;
  if (!m) {
    m = new Map();
    for (const [k, o] of Object.entries(table)) for (const n of [k, ...aliasesOf(o)]) m.set(n, [k, o]);
    indexes.set(table, m as Map<string, [string, unknown]>);
  }
  return m;
}
