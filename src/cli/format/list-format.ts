import { compileTemplate } from './gotemplate.js';
import { renderTable } from './tabwriter.js';

/**
 * Renders rows with a docker `--format` value: "" or "table" for the command's
 * default table, "json" for one JSON object a line, "table <tmpl>" for an
 * aligned table with a header row, anything else as a Go template per row.
 * `headers` names each field's column title ("ID" → "CONTAINER ID").
 *
 *   renderList(rows, 'table {{.ID}}\t{{.Names}}', DEFAULT, { ID: 'CONTAINER ID', Names: 'NAMES' })
 */
export function renderList(rows: object[], format: string | undefined, defaultFormat: string, headers: Record<string, string>): string {
  return listRenderer(format, defaultFormat, headers)(rows);
}

/** Compiles the format up front (a bad template fails before any request), returning the row renderer. */
export function listRenderer(format: string | undefined, defaultFormat: string, headers: Record<string, string>): (rows: object[]) => string {
  let f = format ?? '';
  if (f === '' || f === 'table') f = defaultFormat;
  if (f === 'json') f = '{{json .}}';
  const isTable = f.startsWith('table');
  if (isTable) f = f.slice('table'.length).trim();
  f = f.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const tmpl = compileTemplate(f);
  if (!isTable) return (rows) => rows.map((r) => `${tmpl.execute(r)}\n`).join('');
  return (rows) => {
    const lines = [tmpl.execute(headerRow(headers)), ...rows.map((r) => tmpl.execute(r))];
    return renderTable(lines.flatMap((l) => l.split('\n')));
  };
}

/** A struct whose fields render as column titles (methods such as `.Label "k"` too). */
class Header {}
function headerRow(headers: Record<string, string>): object {
  const h = new Header() as Record<string, unknown>;
  for (const [k, v] of Object.entries(headers)) {
    Object.defineProperty(h, k, { value: k === 'Label' ? (name: string) => name : v, enumerable: true });
  }
  return h;
}
