import { TemplateError } from './template-error.js';

/**
 * Parser for the subset of Go's text/template that docker `--format` users
 * write: text, `{{pipeline}}`, if/else if/else, range (with `$i, $e :=`), with,
 * variables, parenthesised pipelines, trim markers `{{-`/`-}}` and comments.
 * Errors read like Go's: `template: :1: unexpected EOF`.
 */

export type Arg =
  | { t: 'dot'; chain: string[] }
  | { t: 'var'; name: string; chain: string[] }
  | { t: 'fn'; name: string }
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'nil' }
  | { t: 'sub'; pipe: Pipe; chain: string[] };

export interface Cmd { args: Arg[]; pos: Pos; text: string }
export interface Pipe { decl: string[]; assign: boolean; cmds: Cmd[] }
export interface Pos { line: number; col: number }

export type Node =
  | { t: 'text'; s: string }
  | { t: 'action'; pipe: Pipe }
  | { t: 'if' | 'with' | 'range'; pipe: Pipe; list: Node[]; elseList: Node[] };

export { TemplateError };

interface Action { body: string; pos: Pos; line: number }

/** Splits source into text and actions, applying trim markers and dropping comments. */
function scan(src: string): (string | Action)[] {
  const out: (string | Action)[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) { if (text) out.push(text); break; }
    let start = open + 2;
    if (/^-[ \t\r\n]/.test(src.slice(start, start + 2))) { text = text.replace(/\s+$/, ''); start += 1; }
    if (text) out.push(text);
    const line = lineOf(src, open);
    const close = findClose(src, start);
    if (close < 0) throw new TemplateError(`template: :${line}: unclosed action`);
    let end = close;
    if (/[ \t\r\n]-$/.test(src.slice(close - 2, close))) { trimNext = true; end = close - 1; }
    const body = src.slice(start, end);
    const trimmed = body.trim();
    if (!(trimmed.startsWith('/*') && trimmed.endsWith('*/'))) {
      const lead = body.length - body.trimStart().length;
      out.push({ body, pos: { line, col: start + lead - lineStart(src, open) }, line });
    }
    i = close + 2;
  }
  return out;
}

function findClose(src: string, from: number): number {
  let q: string | null = null;
  for (let i = from; i < src.length; i++) {
    const c = src[i];
    if (q) {
      if (c === '\\' && q === '"') i++;
      else if (c === q) q = null;
    } else if (c === '"' || c === '`' || c === "'") q = c;
    else if (c === '}' && src[i + 1] === '}') return i;
  }
  return -1;
}

function lineOf(src: string, at: number): number {
  let n = 1;
  for (let i = 0; i < at; i++) if (src[i] === '\n') n++;
  return n;
}
function lineStart(src: string, at: number): number {
  return src.lastIndexOf('\n', at - 1) + 1;
}

type Tok = { k: 'word' | 'field' | 'var' | 'str' | 'num' | 'punct'; v: string; off: number };

function tokenize(a: Action): Tok[] {
  const s = a.body;
  const toks: Tok[] = [];
  let i = 0;
  const err = (m: string) => new TemplateError(`template: :${a.line}: ${m}`);
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) { i++; continue; }
    const off = i;
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      if (j >= s.length) throw err('unterminated quoted string');
      toks.push({ k: 'str', v: JSON.parse(s.slice(i, j + 1)), off });
      i = j + 1;
    } else if (c === '`') {
      const j = s.indexOf('`', i + 1);
      if (j < 0) throw err('unterminated raw quoted string');
      toks.push({ k: 'str', v: s.slice(i + 1, j), off });
      i = j + 1;
    } else if (c === '|' || c === '(' || c === ')' || c === ',') {
      toks.push({ k: 'punct', v: c, off }); i++;
    } else if (c === ':' && s[i + 1] === '=') {
      toks.push({ k: 'punct', v: ':=', off }); i += 2;
    } else if (c === '=') {
      toks.push({ k: 'punct', v: '=', off }); i++;
    } else if (c === '.' && !/[0-9]/.test(s[i + 1] ?? '')) {
      const m = /^(\.[A-Za-z_][A-Za-z0-9_]*)+|^\./.exec(s.slice(i))!;
      toks.push({ k: 'field', v: m[0], off }); i += m[0].length;
    } else if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(s.slice(i))!;
      toks.push({ k: 'var', v: m[0], off }); i += m[0].length;
    } else if (/[-+0-9.]/.test(c)) {
      const m = /^[-+]?(0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?)/.exec(s.slice(i));
      if (!m) throw err(`bad number syntax: "${s.slice(i, i + 5)}"`);
      toks.push({ k: 'num', v: m[0], off }); i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i))!;
      toks.push({ k: 'word', v: m[0], off }); i += m[0].length;
    } else if (c === "'") {
      const j = s.indexOf("'", i + 1);
      toks.push({ k: 'num', v: String(s.codePointAt(i + 1)), off }); i = j + 1;
    } else {
      throw err(`unexpected "${c}" in command`);
    }
  }
  return toks;
}

/** Parses a template source into a node list, checking functions against `funcs`. */
export function parseTemplate(src: string, funcs: Set<string>): Node[] {
  const items = scan(src);
  let idx = 0;

  function parsePipe(a: Action, toks: Tok[], at: number): Pipe {
    let p = at;
    const decl: string[] = [];
    let assign = false;
    // `$x :=` / `$i, $e :=` / `$x =`
    const look = toks.slice(p);
    if (look[0]?.k === 'var' && (look[1]?.v === ':=' || look[1]?.v === '=' || look[1]?.v === ',')) {
      decl.push(look[0].v);
      p++;
      if (toks[p].v === ',') { decl.push(toks[p + 1].v); p += 2; }
      assign = toks[p].v === '=';
      p++;
    }
    const [pipe, next] = parseCmds(a, toks, p, false);
    if (next !== toks.length) throw new TemplateError(`template: :${a.line}: unexpected "${toks[next].v}" in command`);
    return { decl, assign, cmds: pipe };
  }

  function parseCmds(a: Action, toks: Tok[], p: number, inParen: boolean): [Cmd[], number] {
    const cmds: Cmd[] = [];
    let args: Arg[] = [];
    let startOff = toks[p]?.off ?? 0;
    const flush = (endOff: number) => {
      if (args.length === 0) throw new TemplateError(`template: :${a.line}: missing value for command`);
      cmds.push({ args, pos: { line: a.pos.line, col: a.pos.col + startOff - leadOf(a) }, text: a.body.slice(startOff, endOff).trim() });
      args = [];
    };
    while (p < toks.length) {
      const t = toks[p];
      if (t.v === ')' && t.k === 'punct') {
        if (!inParen) throw new TemplateError(`template: :${a.line}: unexpected right paren`);
        break;
      }
      if (t.k === 'punct' && t.v === '|') { flush(t.off); p++; startOff = toks[p]?.off ?? t.off; continue; }
      if (t.k === 'punct' && t.v === '(') {
        const [inner, q] = parseCmds(a, toks, p + 1, true);
        if (toks[q]?.v !== ')') throw new TemplateError(`template: :${a.line}: unclosed left paren`);
        p = q + 1;
        let chain: string[] = [];
        if (toks[p]?.k === 'field' && toks[p].off === toks[q].off + 1) { chain = fieldChain(toks[p].v); p++; }
        args.push({ t: 'sub', pipe: { decl: [], assign: false, cmds: inner }, chain });
        continue;
      }
      args.push(toArg(a, t));
      p++;
    }
    if (args.length) flush(toks[p]?.off ?? a.body.length);
    else if (cmds.length === 0 || toks[p - 1]?.v === '|') throw new TemplateError(`template: :${a.line}: missing value for command`);
    return [cmds, p];
  }

  function toArg(a: Action, t: Tok): Arg {
    switch (t.k) {
      case 'field': return { t: 'dot', chain: fieldChain(t.v) };
      case 'var': { const [name, ...chain] = t.v.split('.'); return { t: 'var', name, chain }; }
      case 'str': return { t: 'str', v: t.v };
      case 'num': return { t: 'num', v: Number(t.v) };
      case 'word':
        if (t.v === 'true' || t.v === 'false') return { t: 'bool', v: t.v === 'true' };
        if (t.v === 'nil') return { t: 'nil' };
        if (!funcs.has(t.v)) throw new TemplateError(`template: :${a.line}: function "${t.v}" not defined`);
        return { t: 'fn', name: t.v };
      default: throw new TemplateError(`template: :${a.line}: unexpected "${t.v}" in command`);
    }
  }

  /** Parses nodes until one of `stops` ({{end}}, {{else}}); returns the stop word hit. */
  function parseList(stops: string[]): [Node[], string, Action | undefined, Tok[]] {
    const nodes: Node[] = [];
    while (idx < items.length) {
      const it = items[idx++];
      if (typeof it === 'string') { nodes.push({ t: 'text', s: it }); continue; }
      const toks = tokenize(it);
      if (toks.length === 0) throw new TemplateError(`template: :${it.line}: missing value for command`);
      const head = toks[0];
      if (head.k === 'word' && (head.v === 'end' || head.v === 'else')) {
        if (!stops.includes(head.v)) throw new TemplateError(`template: :${it.line}: unexpected {{${head.v}}}`);
        return [nodes, head.v, it, toks];
      }
      if (head.k === 'word' && (head.v === 'if' || head.v === 'with' || head.v === 'range')) {
        nodes.push(parseControl(head.v, it, toks, 1));
        continue;
      }
      nodes.push({ t: 'action', pipe: parsePipe(it, toks, 0) });
    }
    if (stops.length) throw new TemplateError(`template: :${lineOf(src, src.length)}: unexpected EOF`);
    return [nodes, '', undefined, []];
  }

  function parseControl(kind: 'if' | 'with' | 'range', it: Action, toks: Tok[], at: number): Node {
    if (toks.length <= at) throw new TemplateError(`template: :${it.line}: missing value for ${kind}`);
    const pipe = parsePipe(it, toks, at);
    const [list, stop, stopAct, stopToks] = parseList(['end', 'else']);
    let elseList: Node[] = [];
    if (stop === 'else') {
      if (stopToks.length > 1 && stopToks[1].k === 'word' && (stopToks[1].v === 'if' || stopToks[1].v === 'with')) {
        // `{{else if x}}` is an `if` nested in the else branch sharing our {{end}}.
        elseList = [parseControl(stopToks[1].v as 'if' | 'with', stopAct!, stopToks, 2)];
      } else {
        const [l] = parseList(['end']);
        elseList = l;
      }
    }
    return { t: kind, pipe, list, elseList };
  }

  const [nodes] = parseList([]);
  return nodes;
}

function leadOf(a: Action): number {
  return a.body.length - a.body.trimStart().length;
}

function fieldChain(v: string): string[] {
  return v === '.' ? [] : v.slice(1).split('.');
}

