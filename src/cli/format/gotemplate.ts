import { parseTemplate, TemplateError, type Arg, type Cmd, type Node, type Pipe } from './template-parse.js';
import { goPrintf } from './printf.js';

/**
 * A small Go text/template interpreter for `--format`, with the functions the
 * docker CLI adds (json, upper, lower, join, split, title, pad, truncate).
 * Plain objects behave like Go maps (a missing key prints `<no value>`);
 * class instances behave like Go structs (a missing field is an error), and
 * their methods can be called with arguments (`{{.Label "k"}}`).
 *
 *   const t = compileTemplate('{{.Name}} {{index .Config.Labels "k" | upper}}');
 *   t.execute({ Name: 'web', Config: { Labels: { k: 'v' } } }) // "web V"
 */
export interface Template {
  execute(data: unknown): string;
}

export { TemplateError };

type Fn = (...args: any[]) => unknown;

const FUNCS: Record<string, Fn> = {
  json: (v: unknown) => JSON.stringify(v === undefined ? null : v),
  upper: (s: unknown) => String(str(s)).toUpperCase(),
  lower: (s: unknown) => String(str(s)).toLowerCase(),
  title: (s: unknown) => str(s).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, a: string, b: string) => a + b.toUpperCase()),
  split: (s: unknown, sep: unknown) => str(s).split(str(sep)),
  join: (a: unknown, sep: unknown) => {
    if (!Array.isArray(a)) throw new Error(`wrong type for value; expected []string; got ${goType(a)}`);
    return a.map((x) => str(x)).join(str(sep));
  },
  pad: (s: unknown, before: number, after: number) => ' '.repeat(before) + str(s) + ' '.repeat(after),
  truncate: (s: unknown, n: number) => [...str(s)].slice(0, n).join(''),
  len: (v: unknown) => {
    if (typeof v === 'string') return Buffer.byteLength(v);
    if (Array.isArray(v)) return v.length;
    if (v && typeof v === 'object') return Object.keys(v).length;
    throw new Error(`len of type ${goType(v)}`);
  },
  index: (v: unknown, ...keys: unknown[]) => {
    let cur: any = v;
    for (const k of keys) {
      if (Array.isArray(cur) || typeof cur === 'string') {
        if (typeof k !== 'number') throw new Error(`cannot index slice/array with type ${goType(k)}`);
        if (k < 0 || k >= cur.length) throw new Error(`error calling index: index out of range: ${k}`);
        cur = cur[k];
      } else if (cur && typeof cur === 'object') {
        const has = Object.prototype.hasOwnProperty.call(cur, String(k));
        // Typed Go maps (labels are map[string]string) yield the zero value.
        cur = has ? cur[String(k)] : Object.values(cur).every((x) => typeof x === 'string') ? '' : undefined;
      } else if (cur === null || cur === undefined) {
        throw new Error('error calling index: index of untyped nil');
      } else throw new Error(`can't index item of type ${goType(cur)}`);
    }
    return cur;
  },
  slice: (v: unknown, i = 0, j?: number) => (typeof v === 'string' || Array.isArray(v) ? v.slice(i, j) : v),
  print: (...a: unknown[]) => goPrint(a),
  println: (...a: unknown[]) => a.map(fmtValue).join(' ') + '\n',
  printf: (f: unknown, ...a: unknown[]) => goPrintf(str(f), a),
  not: (v: unknown) => !truthy(v),
  and: (...a: unknown[]) => { for (const x of a) if (!truthy(x)) return x; return a[a.length - 1]; },
  or: (...a: unknown[]) => { for (const x of a) if (truthy(x)) return x; return a[a.length - 1]; },
  eq: (a: unknown, ...b: unknown[]) => b.some((x) => compare(a, x, 'eq') === 0),
  ne: (a: unknown, b: unknown) => compare(a, b, 'ne') !== 0,
  lt: (a: unknown, b: unknown) => compare(a, b, 'lt') < 0,
  le: (a: unknown, b: unknown) => compare(a, b, 'le') <= 0,
  gt: (a: unknown, b: unknown) => compare(a, b, 'gt') > 0,
  ge: (a: unknown, b: unknown) => compare(a, b, 'ge') >= 0,
  html: (s: unknown) => str(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`),
  urlquery: (s: unknown) => encodeURIComponent(str(s)),
};

const FUNC_NAMES = new Set(Object.keys(FUNCS));

export function compileTemplate(src: string): Template {
  const nodes = parseTemplate(src, FUNC_NAMES);
  return { execute: (data) => new Exec(data).run(nodes) };
}

/** Go's `%v` rendering of a value. */
export function fmtValue(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `[${v.map(fmtValue).join(' ')}]`;
  if (typeof v === 'object') {
    if (isStruct(v) && typeof (v as any).toString === 'function' && (v as any).toString !== Object.prototype.toString) return String(v);
    const keys = Object.keys(v).sort();
    const body = keys.map((k) => `${k}:${fmtValue((v as any)[k])}`).join(' ');
    return isStruct(v) ? `{${body}}` : `map[${body}]`;
  }
  return String(v);
}

function goPrint(a: unknown[]): string {
  // Go's Print adds spaces only between operands when neither is a string.
  let out = '';
  a.forEach((x, i) => {
    if (i > 0 && typeof x !== 'string' && typeof a[i - 1] !== 'string') out += ' ';
    out += fmtValue(x);
  });
  return out;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : fmtValue(v);
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object' && !isStruct(v)) return Object.keys(v as object).length > 0;
  return true;
}

function isStruct(v: unknown): boolean {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto !== Object.prototype && proto !== null;
}

function goType(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  if (isStruct(v)) return `*${Object.getPrototypeOf(v).constructor.name}`;
  return 'map[string]interface {}';
}

function compare(a: unknown, b: unknown, op: string): number {
  const ta = typeof a;
  if (ta !== typeof b || (ta !== 'string' && ta !== 'number' && ta !== 'boolean')) {
    if ((a === null || a === undefined) && (b === null || b === undefined)) return 0;
    if (op === 'eq' || op === 'ne') {
      if (ta === typeof b && a === b) return 0;
      throw new Error(`error calling ${op}: incompatible types for comparison`);
    }
    throw new Error(`error calling ${op}: incompatible types for comparison`);
  }
  if (ta === 'boolean' && op !== 'eq' && op !== 'ne') throw new Error(`error calling ${op}: invalid type for comparison`);
  return a === b ? 0 : (a as any) < (b as any) ? -1 : 1;
}

class Exec {
  private vars: { name: string; value: unknown }[][];
  constructor(private readonly root: unknown) {
    this.vars = [[{ name: '$', value: root }]];
  }

  run(nodes: Node[]): string {
    return this.list(nodes, this.root);
  }

  private list(nodes: Node[], dot: unknown): string {
    let out = '';
    for (const n of nodes) out += this.node(n, dot);
    return out;
  }

  private scoped<T>(f: () => T): T {
    this.vars.push([]);
    try { return f(); } finally { this.vars.pop(); }
  }

  private node(n: Node, dot: unknown): string {
    switch (n.t) {
      case 'text': return n.s;
      case 'action': {
        const v = this.pipe(n.pipe, dot);
        return n.pipe.decl.length ? '' : fmtValue(v);
      }
      case 'if':
      case 'with':
        return this.scoped(() => {
          const v = this.pipe(n.pipe, dot);
          if (truthy(v)) return this.list(n.list, n.t === 'with' ? v : dot);
          return this.list(n.elseList, dot);
        });
      case 'range':
        return this.scoped(() => this.range(n, dot));
    }
  }

  private range(n: Extract<Node, { pipe: Pipe; list: Node[] }>, dot: unknown): string {
    const v = this.evalCmds(n.pipe.cmds, dot);
    let entries: [unknown, unknown][];
    if (Array.isArray(v)) entries = v.map((x, i) => [i, x]);
    else if (v === null || v === undefined) entries = [];
    else if (typeof v === 'object') entries = Object.keys(v).sort().map((k) => [k, (v as any)[k]]);
    else if (typeof v === 'number') entries = Array.from({ length: v }, (_x, i) => [i, i]);
    else throw new Error(`range can't iterate over ${fmtValue(v)}`);
    if (entries.length === 0) return this.list(n.elseList, dot);
    let out = '';
    for (const [k, x] of entries) {
      const scope = this.vars[this.vars.length - 1];
      scope.length = 0;
      if (n.pipe.decl.length === 1) scope.push({ name: n.pipe.decl[0], value: x });
      if (n.pipe.decl.length === 2) scope.push({ name: n.pipe.decl[0], value: k }, { name: n.pipe.decl[1], value: x });
      out += this.list(n.list, x);
    }
    return out;
  }

  private pipe(p: Pipe, dot: unknown): unknown {
    const v = this.evalCmds(p.cmds, dot);
    if (p.decl.length) {
      if (p.assign) this.setVar(p.decl[0], v);
      else this.vars[this.vars.length - 1].push({ name: p.decl[0], value: v });
    }
    return v;
  }

  private evalCmds(cmds: Cmd[], dot: unknown): unknown {
    let v: unknown;
    cmds.forEach((c, i) => { v = this.cmd(c, dot, i > 0, v); });
    return v;
  }

  private cmd(c: Cmd, dot: unknown, piped: boolean, input: unknown): unknown {
    try {
      const [head, ...rest] = c.args;
      const extra = piped ? [input] : [];
      if (head.t === 'fn') {
        const args = rest.map((a) => this.arg(a, dot));
        return FUNCS[head.name](...args, ...extra);
      }
      if ((head.t === 'dot' || head.t === 'var') && (rest.length || piped) && head.chain.length) {
        // A method call with arguments: `.Label "k"`.
        const base = head.t === 'dot' ? dot : this.getVar(head.name);
        const recv = this.chain(base, head.chain.slice(0, -1));
        const name = head.chain[head.chain.length - 1];
        const m = recv && typeof recv === 'object' ? (recv as any)[name] : undefined;
        if (typeof m === 'function') return m.call(recv, ...rest.map((a) => this.arg(a, dot)), ...extra);
      }
      if (rest.length || piped) throw new Error(`can't give argument to non-function ${c.args[0] ? describe(c.args[0]) : ''}`);
      return this.arg(head, dot);
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      throw new TemplateError(`template: :${c.pos.line}:${c.pos.col}: executing "" at <${c.text}>: ${(e as Error).message}`);
    }
  }

  private arg(a: Arg, dot: unknown): unknown {
    switch (a.t) {
      case 'dot': return this.chain(dot, a.chain);
      case 'var': return this.chain(this.getVar(a.name), a.chain);
      case 'str': return a.v;
      case 'num': return a.v;
      case 'bool': return a.v;
      case 'nil': return null;
      case 'fn': return FUNCS[a.name]();
      case 'sub': return this.chain(this.evalCmds(a.pipe.cmds, dot), a.chain);
    }
  }

  private chain(v: unknown, names: string[]): unknown {
    let cur = v;
    for (const name of names) {
      if (cur === null || cur === undefined) throw new Error(`nil pointer evaluating interface {}.${name}`);
      if (typeof cur !== 'object' || Array.isArray(cur)) throw new Error(`can't evaluate field ${name} in type ${goType(cur)}`);
      if (isStruct(cur)) {
        if (!(name in (cur as object))) throw new Error(`can't evaluate field ${name} in type ${goType(cur)}`);
        const f = (cur as any)[name];
        cur = typeof f === 'function' ? f.call(cur) : f;
      } else {
        cur = Object.prototype.hasOwnProperty.call(cur, name) ? (cur as any)[name] : undefined;
      }
    }
    return cur;
  }

  private getVar(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const s = this.vars[i];
      for (let j = s.length - 1; j >= 0; j--) if (s[j].name === name) return s[j].value;
    }
    throw new Error(`undefined variable: ${name}`);
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const e = this.vars[i].find((x) => x.name === name);
      if (e) { e.value = value; return; }
    }
    throw new Error(`undefined variable: ${name}`);
  }
}

function describe(a: Arg): string {
  if (a.t === 'dot') return a.chain.length ? '.' + a.chain.join('.') : '.';
  if (a.t === 'var') return [a.name, ...a.chain].join('.');
  return '';
}
