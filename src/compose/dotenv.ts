import { readFileSync } from 'node:fs';
import { interpolate, type Env } from './interpolate.js';

/**
 * Reads a `.env` / `env_file` file as compose does: `KEY=value` lines,
 * optional `export `, `#` comments, single quotes literal, double quotes with
 * `\n` escapes, unquoted values trimmed and cut at ` #`. Values may refer to
 * earlier keys and to `lookup` (the process environment).
 *
 *   parseDotenv('A=1\nB="${A}2"') // → { A: '1', B: '12' }
 */
export function parseDotenv(text: string, lookup: Env = {}, where = '.env'): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n].trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice(7).trimStart();
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (!/^[^\s=]+$/.test(key)) throw new Error(`${where}:${n + 1}: unexpected character in variable name "${key}"`);
    if (eq < 0) {
      // A bare name passes the caller's value through, if it has one.
      if (lookup[key] !== undefined) out[key] = lookup[key] as string;
      continue;
    }
    let raw = line.slice(eq + 1).trim();
    const env = { ...lookup, ...out };
    if (raw.startsWith("'")) {
      const end = raw.indexOf("'", 1);
      out[key] = end < 0 ? raw.slice(1) : raw.slice(1, end);
    } else if (raw.startsWith('"')) {
      // Double-quoted values may span lines until the closing quote.
      let body = raw.slice(1);
      while (!/(^|[^\\])"/.test(body) && n + 1 < lines.length) body += '\n' + lines[++n];
      const end = body.search(/(^|[^\\])"/);
      const inner = end < 0 ? body : body.slice(0, body[end] === '"' ? end : end + 1);
      const unescaped = inner.replace(/\\([nrt"\\])/g, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' })[c] as string);
      out[key] = interpolate(unescaped, env);
    } else {
      const hash = raw.search(/\s#/);
      if (hash >= 0) raw = raw.slice(0, hash).trimEnd();
      out[key] = interpolate(raw, env);
    }
  }
  return out;
}

export function readDotenv(file: string, lookup: Env = {}): Record<string, string> {
  return parseDotenv(readFileSync(file, 'utf8'), lookup, file);
}
