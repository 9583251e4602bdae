/**
 * Go's text/tabwriter as the docker CLI configures it for tables
 * (minwidth 10, tabwidth 1, padding 3, space padding): cells are tab-separated;
 * each column is as wide as its widest cell plus padding; the last cell of a
 * line is not padded.
 *
 *   renderTable(['CONTAINER ID\tIMAGE', 'abc\tbusybox']) // aligned lines
 */
export function renderTable(lines: string[], minWidth = 10, padding = 3): string {
  const rows = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const r of rows) {
    for (let i = 0; i < r.length - 1; i++) widths[i] = Math.max(widths[i] ?? 0, displayWidth(r[i]) + padding, minWidth);
  }
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c + ' '.repeat(widths[i] - displayWidth(c)) : c)).join('')).join('\n') + (rows.length ? '\n' : '');
}

function displayWidth(s: string): number {
  return [...s].length;
}
