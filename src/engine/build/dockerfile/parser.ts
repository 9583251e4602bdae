/**
 * Dockerfile text → one node per instruction, as Docker's parser reads it:
 * parser directives at the top (`# escape=` and `# syntax=`, the latter
 * accepted and ignored), comments, line continuations (comment and empty lines
 * inside a continuation are skipped), JSON (exec) form versus shell form,
 * leading `--flags`, and heredocs for RUN/COPY/ADD (also under ONBUILD).
 *
 *   const { nodes } = parseDockerfile('FROM busybox\nRUN echo \\\n  hi\n');
 *   nodes[1]  // { cmd: 'RUN', args: ['echo   hi'], json: false, startLine: 2, endLine: 3, ... }
 *
 * Nodes are still untyped; instructions.ts checks arguments and flags and
 * turns them into typed instructions. Every error carries the line it is on.
 */
import { DockerfileError } from './errors.js';
import { ShellLex, envOf, ExpandError } from './expand.js';

export interface Heredoc {
  /** Delimiter word with quotes removed, e.g. `EOF`. */
  name: string;
  /** `3<<EOF` → 3; 0 when absent. */
  fd: number;
  /** False when the delimiter was quoted (`<<'EOF'`): the body is taken literally. */
  expand: boolean;
  /** `<<-EOF`: leading tabs are stripped from the body and the terminator. */
  chomp: boolean;
  /** The body, each line with its newline, terminator excluded. */
  content: string;
}

export interface Node {
  /** The instruction word as written (`RUN`, `run`…). */
  cmd: string;
  /** Leading `--name[=value]` words, quotes removed. */
  flags: string[];
  /**
   * Arguments as Docker's per-instruction line parser splits them: one string
   * for shell form, the elements for JSON form, name/value/separator triples
   * for ENV and LABEL, the trigger's own words after its name for ONBUILD.
   */
  args: string[];
  /** The arguments were a JSON array (exec form). */
  json: boolean;
  /** The whole instruction as one line: continuations joined, comments dropped. */
  original: string;
  startLine: number;
  endLine: number;
  heredocs: Heredoc[];
  /** For ONBUILD: the trigger instruction. */
  trigger?: Node;
}

export interface ParseResult {
  nodes: Node[];
  escapeToken: string;
  /** Docker's `[WARNING]: ...` lines (empty continuation lines). */
  warnings: string[];
}

const reWhitespace = /[\t\v\f\r ]+/;
const reHeredoc = /^(\d*)<<(-?)\s*([^<]*)$/;
const directiveRe = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const knownDirectives = new Set(['syntax', 'escape', 'check']);

type LineParser = (rest: string, escape: string) => { args: string[]; json: boolean; trigger?: Node };

/** Parses a whole Dockerfile. `file` only labels error messages. */
export function parseDockerfile(text: string, file = 'Dockerfile'): ParseResult {
  const lines = splitLines(text.replace(/^\uFEFF/, ''));
  const d = new Directives();
  const nodes: Node[] = [];
  const warnings: string[] = [];
  let current = 0;
  const fail = (msg: string, line: number): never => {
    throw new DockerfileError(file, line, msg);
  };
  const processLine = (raw: string, stripLeft: boolean): string => {
    let token = trimNewline(raw);
    if (stripLeft) token = token.replace(/^\s+/u, '');
    try {
      d.possibleDirective(token);
    } catch (e) {
      fail((e as Error).message, current + 1);
    }
    return isComment(token) ? '' : token;
  };

  let i = 0;
  while (i < lines.length) {
    let text = processLine(lines[i++], true);
    current++;
    const startLine = current;
    let [line, eol] = d.trimContinuation(text);
    if (eol && line === '') continue;
    let emptyContinuation = false;
    while (!eol && i < lines.length) {
      const raw = lines[i++];
      text = processLine(raw, false);
      current++;
      if (isComment(raw)) continue;
      if (/^\s*$/u.test(trimNewline(text))) {
        emptyContinuation = true;
        continue;
      }
      let part: string;
      [part, eol] = d.trimContinuation(text);
      line += part;
    }
    if (emptyContinuation) warnings.push(`[WARNING]: Empty continuation line found in: ${line}`);

    let node: Node;
    try {
      node = nodeFromLine(line, d.escape);
    } catch (e) {
      return fail((e as Error).message, startLine);
    }
    const target = node.trigger ?? node;
    if (heredocCapable(target) && line.includes('<<')) {
      let docs: Heredoc[];
      try {
        docs = heredocsFromLine(line);
      } catch (e) {
        return fail((e as Error).message, startLine);
      }
      for (const doc of docs) {
        let terminated = false;
        let content = '';
        while (i < lines.length) {
          const raw = lines[i++];
          current++;
          let candidate = trimNewline(raw);
          if (doc.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          content += raw;
        }
        if (!terminated) fail('unterminated heredoc', startLine);
        doc.content = content;
        target.heredocs.push(doc);
      }
      if (target !== node) node.heredocs = target.heredocs;
    }
    node.startLine = startLine;
    node.endLine = current;
    nodes.push(node);
  }
  if (nodes.length === 0) fail('file with no instructions', current);
  return { nodes, escapeToken: d.escape, warnings };
}

/** Parses a single instruction line, e.g. an ONBUILD trigger from an image config. */
export function parseInstructionLine(line: string, escape = '\\'): Node {
  return nodeFromLine(line, escape);
}

/** Splits keeping each line's newline, like Docker's scanner. */
function splitLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    out.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

const trimNewline = (s: string) => s.replace(/[\r\n]+$/, '');
const isComment = (s: string) => /^\s*#/u.test(s);

class Directives {
  escape = '\\';
  private continuation = Directives.continuationRe('\\');
  private done = false;
  private seen = new Set<string>();

  private static continuationRe(esc: string): RegExp {
    const e = '\\' + esc;
    return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
  }

  /** Directives only count before the first line that is not one. */
  possibleDirective(line: string): void {
    if (this.done) return;
    if (!line.startsWith('#')) {
      this.done = true;
      return;
    }
    const m = directiveRe.exec(line.slice(1).replace(/^\s+/u, ''));
    const key = m?.[1].toLowerCase();
    if (!m || !key || !knownDirectives.has(key)) {
      this.done = true;
      return;
    }
    if (this.seen.has(key)) throw new Error(`only one ${key} parser directive can be used`);
    this.seen.add(key);
    if (key === 'escape') {
      const v = m[2];
      if (v !== '`' && v !== '\\') throw new Error(`invalid escape token '${v}' does not match \` or \\`);
      this.escape = v;
      this.continuation = Directives.continuationRe(v);
    }
  }

  /** Removes a trailing escape token; returns [line, isEndOfLine]. */
  trimContinuation(line: string): [string, boolean] {
    if (this.continuation.test(line)) return [line.replace(this.continuation, '$1'), false];
    return [line, true];
  }
}

function nodeFromLine(line: string, escape: string): Node {
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

function heredocCapable(node: Node): boolean {
  return ['add', 'copy', 'run'].includes(node.cmd.toLowerCase()) && !node.json;
}

/** Recognises a `<<EOF`-style word; undefined when the word is not a heredoc. */
export function parseHeredocWord(word: string): Heredoc | undefined {
  const m = reHeredoc.exec(word);
  if (!m || m[3].length === 0) return undefined;
  const lex = new ShellLex({ skipUnsetEnv: true });
  const words = lex.processWords(m[3], envOf({}));
  if (words.length !== 1) return undefined;
  const raw = new ShellLex({ skipUnsetEnv: true, rawQuotes: true }).processWords(m[3], envOf({}));
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  return { name: words[0], fd: m[1] ? Number(m[1]) : 0, expand: quotes(words[0]) === quotes(raw[0]), chomp: m[2] === '-', content: '' };
}

function heredocsFromLine(line: string): Heredoc[] {
  let words: string[];
  try {
    words = new ShellLex({ rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).processWords(line, envOf({}));
  } catch (e) {
    if (e instanceof ExpandError) return [];
    throw e;
  }
  return words.map(parseHeredocWord).filter((h): h is Heredoc => h !== undefined);
}

/** `<<-` bodies lose leading tabs on every line. */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}
