/**
 * Code-unit order of two strings, for sorting names and ISO-8601 timestamps of one format (which it
 * sorts by time). Not `localeCompare`: its first call sets up ICU's collator, ~6 ms of a command's
 * start; it stays where people read the order (`network ls`, compose's listings, `--sort`).
 */
export const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
