/**
 * One logical Dockerfile line (continuations already joined) → a Node: the
 * instruction word, leading `--flags`, and the arguments split the way
 * Docker's per-instruction line parsers split them (JSON array or shell
 * string, whitespace words, ENV/LABEL name=value triples, the ONBUILD trigger).
 *
 *   nodeFromLine('COPY --from=build ["a b", "/c/"]', '\\')
 *   // { cmd: 'COPY', flags: ['--from=build'], args: ['a b', '/c/'], json: true, ... }
 */
import type { Node } from './parser.js';

const reWhitespace = /[\t\v\f\r ]+/;

type LineParser = (rest: string, escape: string) => { args: string[]; json: boolean; trigger?: Node };

export function nodeFromLine(line: string, escape: string): Node {
  const trimmed = line.trim();
  const sp = reWhitespace.exec(trimmed);
  const cmd = sp ? trimmed.slice(0, sp.index) : trimmed;
  let rest = sp ? trimmed.slice(sp.index + sp[0].length) : '';
  let flags: string[] = [];
  if (sp) [rest, flags] = extractFlags(rest, escape);
  rest = rest.trim();
  const parse = lineParsers[cmd.toLowerCase()] ?? (() => ({ args: [], json: false }));
  const { args, json, trigger } = parse(rest, escape);
  return { cmd, flags, args, json, original: line, startLine: 0, endLine: 0, heredocs: [], trigger };
}

/** Leading `--flag` words; a bare `--` ends them. Quotes are removed, escapes honoured. */
function extractFlags(line: string, escape: string): [string, string[]] {
  const words: string[] = [];
  let pos = 0;
  const n = line.length;
  for (;;) {
    while (pos < n && /\s/u.test(line[pos])) pos++;
    if (pos >= n) return ['', words];
    if (!(line[pos] === '-' && line[pos + 1] === '-')) return [line.slice(pos), words];
    let word = '';
    let quote = '';
    let blankOK = false;
    for (; pos < n; pos++) {
      let ch = line[pos];
      if (quote) {
        if (ch === quote) {
          quote = '';
          continue;
        }
      } else if (/\s/u.test(ch)) {
        break;
      } else if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        continue;
      }
      if (ch === escape) {
        if (pos + 1 === n) {
          quote = '';
          continue;
        }
        ch = line[++pos];
      }
      word += ch;
    }
    if (word === '--' && pos < n) return [line.slice(pos), words];
    if (word !== '--' && (blankOK || word.length > 0)) words.push(word);
  }
}

/** Whitespace-separated words keeping quotes and escapes (ENV, LABEL, ARG). */
function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let word = '';
  let inWord = false;
  let quote = '';
  let blankOK = false;
  const flush = () => {
    if (blankOK || word.length > 0) words.push(word);
    word = '';
    blankOK = false;
    inWord = false;
  };
  for (let i = 0; i < chars.length; i++) {
    let ch = chars[i];
    if (!inWord) {
      if (/\s/u.test(ch)) continue;
      inWord = true;
    }
    if (!quote) {
      if (/\s/u.test(ch)) {
        flush();
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
      } else if (ch === escape) {
        if (i + 1 === chars.length) continue;
        word += ch;
        ch = chars[++i];
      }
      word += ch;
    } else {
      if (ch === quote) {
        quote = '';
      } else if (ch === escape && quote !== "'") {
        if (i + 1 === chars.length) continue;
        word += ch;
        ch = chars[++i];
      }
      word += ch;
    }
  }
  if (inWord) flush();
  return words;
}

class NotStringArray extends Error {}

function parseJSON(rest: string): string[] | undefined {
  rest = rest.replace(/^\s+/u, '');
  if (!rest.startsWith('[')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(rest);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((x) => typeof x === 'string')) {
    throw new NotStringArray('when using JSON array syntax, arrays must be comprised of strings only');
  }
  return v as string[];
}

const whitespaceDelimited: LineParser = (rest) => ({ args: rest === '' ? [] : rest.split(reWhitespace), json: false });
const single: LineParser = (rest) => ({ args: rest === '' ? [] : [rest], json: false });
const maybeJSON: LineParser = (rest) => {
  if (rest === '') return { args: [], json: false };
  const arr = parseJSON(rest);
  return arr ? { args: arr, json: true } : { args: [rest], json: false };
};
const maybeJSONToList: LineParser = (rest, esc) => {
  const arr = parseJSON(rest);
  return arr ? { args: arr, json: true } : whitespaceDelimited(rest, esc);
};
const nameVal = (key: string): LineParser => (rest, esc) => {
  const words = parseWords(rest, esc);
  if (words.length === 0) return { args: [], json: false };
  if (!words[0].includes('=')) {
    // Legacy `ENV name value with spaces`: one pair, the value is the rest of the line.
    const parts = rest.split(reWhitespace);
    if (parts.length < 2) throw new Error(`${key} must have two arguments`);
    const sp = reWhitespace.exec(rest)!;
    return { args: [rest.slice(0, sp.index), rest.slice(sp.index + sp[0].length), ''], json: false };
  }
  const args: string[] = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq < 0) throw new Error(`Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`);
    args.push(w.slice(0, eq), w.slice(eq + 1), '=');
  }
  return { args, json: false };
};

const lineParsers: Record<string, LineParser> = {
  add: maybeJSONToList,
  arg: (rest, esc) => ({ args: parseWords(rest, esc), json: false }),
  cmd: maybeJSON,
  copy: maybeJSONToList,
  entrypoint: maybeJSON,
  env: nameVal('ENV'),
  expose: whitespaceDelimited,
  from: whitespaceDelimited,
  healthcheck: (rest, esc) => {
    const m = /^(\S*)\s*/u.exec(rest)!;
    if (m[1] === '') return { args: [], json: false };
    const sub = maybeJSON(rest.slice(m[0].length), esc);
    return { args: [m[1], ...sub.args], json: sub.json };
  },
  label: nameVal('LABEL'),
  maintainer: single,
  onbuild: (rest, esc) => {
    if (rest === '') return { args: [], json: false };
    const trigger = nodeFromLine(rest, esc);
    return { args: [trigger.cmd, ...trigger.args], json: trigger.json, trigger };
  },
  run: maybeJSON,
  shell: maybeJSON,
  stopsignal: single,
  user: single,
  volume: maybeJSONToList,
  workdir: single,
};

