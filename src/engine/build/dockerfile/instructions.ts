/**
 * Parsed nodes → typed instructions grouped into stages, with Docker's checks
 * and messages (argument counts, flags, stage names). Nothing is expanded
 * here: `$VAR` stays as written until the planner knows the variables.
 *
 *   const df = parseStages('ARG V=1\nFROM busybox AS base\nENV A=b\n');
 *   df.metaArgs[0].args   // [{ key: 'V', value: '1' }]
 *   df.stages[0]          // { name: 'base', index: 0, from: { kind: 'FROM', base: 'busybox', ... }, commands: [ENV] }
 */
import { DockerfileError } from './errors.js';
import { chompHeredoc, parseDockerfile, parseHeredocWord, type Heredoc, type Node } from './parser.js';

interface Common {
  /** First and last line of the instruction in the Dockerfile. */
  line: number;
  endLine: number;
  /** The instruction as the legacy builder prints it after `Step N/M : `. */
  code: string;
}

export interface KeyValue { key: string; value: string }
export interface ArgDef { key: string; value?: string }
/** A heredoc used as a COPY/ADD source: a file named `name` holding `data`. */
export interface InlineSource { name: string; data: string; expand: boolean }
export interface HealthConfig {
  /** `['NONE']`, `['CMD', ...args]` or `['CMD-SHELL', command]`, as in an image config. */
  Test: string[];
  /** Durations in nanoseconds; 0 means "inherit the default". */
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export type FromInstruction = Common & { kind: 'FROM'; base: string; stage?: string; platform?: string };
export type ArgInstruction = Common & { kind: 'ARG'; args: ArgDef[] };
export type CopyInstruction = Common & {
  kind: 'COPY' | 'ADD';
  sources: string[];
  inline: InlineSource[];
  dest: string;
  chown?: string;
  chmod?: string;
  /** COPY --from: a stage name, stage index or image reference. */
  from?: string;
  link: boolean;
};
export type CommandInstruction = Common & {
  kind: 'RUN' | 'CMD' | 'ENTRYPOINT';
  /** Exec form: the argv. Shell form: one string, to be run by the SHELL. */
  cmd: string[];
  shellForm: boolean;
  heredocs: Heredoc[];
};
export type Instruction =
  | FromInstruction
  | ArgInstruction
  | CopyInstruction
  | CommandInstruction
  | (Common & { kind: 'ENV' | 'LABEL'; pairs: KeyValue[]; /** `--label` values are taken literally. */ literal?: boolean })
  | (Common & { kind: 'MAINTAINER'; maintainer: string })
  | (Common & { kind: 'EXPOSE'; ports: string[] })
  | (Common & { kind: 'VOLUME'; paths: string[] })
  | (Common & { kind: 'USER'; user: string })
  | (Common & { kind: 'WORKDIR'; path: string })
  | (Common & { kind: 'STOPSIGNAL'; signal: string })
  | (Common & { kind: 'ONBUILD'; expression: string })
  | (Common & { kind: 'HEALTHCHECK'; health: HealthConfig })
  | (Common & { kind: 'SHELL'; shell: string[] });

export interface Stage {
  /** Lower-cased `AS` name, if any. */
  name?: string;
  index: number;
  from: FromInstruction;
  commands: Instruction[];
}

export interface ParsedDockerfile {
  /** ARG instructions before the first FROM. */
  metaArgs: ArgInstruction[];
  stages: Stage[];
  escapeToken: string;
  warnings: string[];
}

const BUILDKIT_ONLY = 'option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled';

/** Parses a Dockerfile into stages. Throws DockerfileError on the first problem. */
export function parseStages(text: string, file = 'Dockerfile'): ParsedDockerfile {
  const { nodes, escapeToken, warnings } = parseDockerfile(text, file);
  const metaArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  for (const node of nodes) {
    const ins = parseInstruction(node, file);
    if (ins.kind === 'FROM') {
      stages.push({ name: ins.stage, index: stages.length, from: ins, commands: [] });
    } else if (stages.length === 0) {
      if (ins.kind !== 'ARG') throw new DockerfileError(file, node.startLine, 'no build stage in current context');
      metaArgs.push(ins);
    } else {
      stages[stages.length - 1].commands.push(ins);
    }
  }
  return { metaArgs, stages, escapeToken, warnings };
}

/** Types one node; `file` labels errors. */
export function parseInstruction(node: Node, file = 'Dockerfile'): Instruction {
  try {
    return typed(node);
  } catch (e) {
    if (e instanceof DockerfileError) throw e;
    throw new DockerfileError(file, node.startLine, (e as Error).message);
  }
}

type FlagKind = 'string' | 'bool' | 'strings';
type FlagValues = Map<string, string | string[]>;

/** Docker's BFlags: `--name=value` only, booleans may omit the value. */
function parseFlags(flags: string[], spec: Record<string, FlagKind>): FlagValues {
  const out: FlagValues = new Map();
  for (const a of flags) {
    if (a === '--') break;
    if (!a.startsWith('--')) throw new Error(`arg should start with -- : ${a}`);
    const eq = a.indexOf('=');
    const flagName = eq < 0 ? a : a.slice(0, eq);
    const value = eq < 0 ? undefined : a.slice(eq + 1);
    const name = flagName.slice(2);
    const kind = Object.prototype.hasOwnProperty.call(spec, name) ? spec[name] : undefined;
    if (!kind) throw new Error(`unknown flag: ${flagName}`);
    if (out.has(name) && kind !== 'strings') throw new Error(`duplicate flag specified: ${flagName}`);
    if (kind === 'bool') {
      if (value === '') throw new Error(`missing a value on flag: ${flagName}`);
      const v = (value ?? 'true').toLowerCase();
      if (v !== 'true' && v !== 'false') throw new Error(`expecting boolean value for flag ${flagName}, not: ${value}`);
      out.set(name, v);
    } else {
      if (value === undefined) throw new Error(`missing a value on flag: ${flagName}`);
      if (kind === 'strings') out.set(name, [...((out.get(name) as string[]) ?? []), value]);
      else out.set(name, value);
    }
  }
  return out;
}

/** The legacy builder refuses BuildKit-only flags with this message. */
function refuseBuildKitFlags(flags: FlagValues, names: string[]): void {
  for (const n of names) if (flags.has(n)) throw new Error(`the --${n} ${BUILDKIT_ONLY}`);
}

function kvPairs(args: string[], cmd: string): KeyValue[] {
  if (args.length === 0) throw new Error(`${cmd} requires at least one argument`);
  if (args.length % 3 !== 0) throw new Error(`Bad input to ${cmd}, too many arguments`);
  const out: KeyValue[] = [];
  for (let j = 0; j < args.length; j += 3) {
    if (args[j].length === 0) throw new Error(`${cmd} names can not be blank`);
    out.push({ key: args[j], value: args[j + 1] });
  }
  return out;
}

const exactlyOne = (args: string[], cmd: string) => {
  if (args.length !== 1) throw new Error(`${cmd} requires exactly one argument`);
  return args[0];
};
const atLeastOne = (args: string[], cmd: string) => {
  if (args.length === 0) throw new Error(`${cmd} requires at least one argument`);
};
/** Shell form joins everything into one string; exec form keeps the array. */
const cmdLine = (node: Node) => (node.json ? node.args : node.args.length ? [node.args.join(' ')] : []);

function typed(node: Node): Instruction {
  const common: Common = { line: node.startLine, endLine: node.endLine, code: node.original.trim() };
  const args = node.args;
  const kind = node.cmd.toUpperCase();
  switch (kind) {
    case 'FROM': {
      let stage: string | undefined;
      if (args.length === 3 && args[1].toLowerCase() === 'as') {
        stage = args[2].toLowerCase();
        if (!/^[a-z][a-z0-9-_.]*$/.test(stage)) {
          throw new Error(`invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`);
        }
      } else if (args.length !== 1) {
        throw new Error('FROM requires either one or three arguments');
      }
      const f = parseFlags(node.flags, { platform: 'string' });
      return { ...common, kind, base: args[0], stage, platform: f.get('platform') as string | undefined };
    }
    case 'ENV':
    case 'LABEL':
      parseFlags(node.flags, {});
      return { ...common, kind, pairs: kvPairs(args, kind) };
    case 'MAINTAINER': {
      const maintainer = exactlyOne(args, kind);
      parseFlags(node.flags, {});
      return { ...common, kind, maintainer };
    }
    case 'ADD':
    case 'COPY': {
      if (args.length < 2) throw new Error(`${kind} requires at least two arguments, but only one was provided. Destination could not be determined`);
      const spec: Record<string, FlagKind> = kind === 'ADD'
        ? { chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', unpack: 'bool', exclude: 'strings' }
        : { chown: 'string', from: 'string', chmod: 'string', link: 'bool', exclude: 'strings', parents: 'bool' };
      const f = parseFlags(node.flags, spec);
      const dest = args[args.length - 1];
      if (parseHeredocWord(dest)) throw new Error(`${kind} cannot accept a heredoc as a destination`);
      const byName = new Map(node.heredocs.map((h) => [h.name, h]));
      const sources: string[] = [];
      const inline: InlineSource[] = [];
      for (const src of args.slice(0, -1)) {
        const h = parseHeredocWord(src);
        if (!h) {
          sources.push(src);
          continue;
        }
        const content = byName.get(h.name)?.content ?? '';
        inline.push({ name: h.name, data: h.chomp ? chompHeredoc(content) : content, expand: h.expand });
      }
      refuseBuildKitFlags(f, ['keep-git-dir', 'checksum', 'unpack', 'exclude', 'parents']);
      const from = f.get('from') as string | undefined;
      if (from !== undefined && /\$/.test(from)) {
        throw new Error('variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround');
      }
      return {
        ...common, kind, sources, inline, dest, from, link: f.get('link') === 'true',
        chown: f.get('chown') as string | undefined, chmod: f.get('chmod') as string | undefined,
      };
    }
    case 'RUN':
    case 'CMD':
    case 'ENTRYPOINT': {
      const f = parseFlags(node.flags, kind === 'RUN' ? { mount: 'strings', network: 'string', security: 'string', device: 'strings' } : {});
      refuseBuildKitFlags(f, ['mount', 'network', 'security', 'device']);
      return { ...common, kind, cmd: cmdLine(node), shellForm: !node.json, heredocs: node.heredocs };
    }
    case 'ONBUILD': {
      atLeastOne(args, kind);
      parseFlags(node.flags, {});
      const trigger = args[0].trim().toUpperCase();
      if (trigger === 'ONBUILD') throw new Error('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new Error(`${trigger} isn't allowed as an ONBUILD trigger`);
      let expression = node.original.replace(/^\s*ONBUILD\s*/i, '');
      for (const h of node.heredocs) expression += '\n' + h.content + h.name;
      return { ...common, kind, expression };
    }
    case 'WORKDIR': {
      const path = exactlyOne(args, kind);
      parseFlags(node.flags, {});
      return { ...common, kind, path };
    }
    case 'HEALTHCHECK':
      return { ...common, kind, health: healthcheck(node) };
    case 'EXPOSE':
      atLeastOne(args, kind);
      parseFlags(node.flags, {});
      return { ...common, kind, ports: [...args].sort() };
    case 'USER': {
      const user = exactlyOne(args, kind);
      parseFlags(node.flags, {});
      return { ...common, kind, user };
    }
    case 'VOLUME': {
      atLeastOne(args, kind);
      parseFlags(node.flags, {});
      const paths = args.map((v) => v.trim());
      if (paths.some((p) => p === '')) throw new Error('VOLUME specified can not be an empty string');
      return { ...common, kind, paths };
    }
    case 'STOPSIGNAL':
      return { ...common, kind, signal: exactlyOne(args, kind) };
    case 'ARG': {
      atLeastOne(args, kind);
      const defs = args.map((a): ArgDef => {
        const eq = a.indexOf('=');
        if (eq < 0) return { key: a };
        if (eq === 0) throw new Error('ARG names can not be blank');
        return { key: a.slice(0, eq), value: a.slice(eq + 1) };
      });
      return { ...common, kind, args: defs };
    }
    case 'SHELL': {
      parseFlags(node.flags, {});
      const shell = cmdLine(node);
      if (shell.length === 0) throw new Error('SHELL requires at least one argument');
      if (!node.json) throw new Error(`SHELL requires the arguments to be in JSON form`);
      return { ...common, kind, shell };
    }
  }
  throw new Error(`unknown instruction: ${node.cmd}`);
}

function healthcheck(node: Node): HealthConfig {
  const args = node.args;
  atLeastOne(args, 'HEALTHCHECK');
  const typ = args[0].toUpperCase();
  if (typ === 'NONE') {
    if (args.length > 1) throw new Error('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  const f = parseFlags(node.flags, { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' });
  if (typ !== 'CMD') throw new Error(`Unknown type ${JSON.stringify(typ)} in HEALTHCHECK (try CMD)`);
  const rest = args.slice(1);
  const cmd = node.json ? rest : rest.length ? [rest.join(' ')] : [];
  if (cmd.length === 0) throw new Error('Missing command after HEALTHCHECK CMD');
  const h: HealthConfig = { Test: [node.json ? 'CMD' : 'CMD-SHELL', ...cmd] };
  const dur = (name: string) => {
    const s = f.get(name) as string | undefined;
    if (!s) return 0;
    const d = parseGoDuration(s);
    if (d !== 0 && d < 1e6) throw new Error(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
    return d;
  };
  h.Interval = dur('interval');
  h.Timeout = dur('timeout');
  h.StartPeriod = dur('start-period');
  h.StartInterval = dur('start-interval');
  const r = f.get('retries') as string | undefined;
  h.Retries = 0;
  if (r !== undefined && r !== '') {
    if (!/^[+-]?\d+$/.test(r)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(r)}: invalid syntax`);
    const n = Number(r);
    if (n < 0) throw new Error(`--retries cannot be negative (${n})`);
    h.Retries = n;
  }
  return h;
}

const units: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration ("1m30s", "1.5h", "300ms") in nanoseconds, with Go's messages. */
export function parseGoDuration(s: string): number {
  const quoted = JSON.stringify(s);
  let rest = s;
  let sign = 1;
  if (rest[0] === '-' || rest[0] === '+') {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new Error(`time: invalid duration ${quoted}`);
  let total = 0;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    if (m[0] === '' || m[0] === '.') throw new Error(`time: invalid duration ${quoted}`);
    rest = rest.slice(m[0].length);
    const u = /^[^\d.]*/.exec(rest)![0];
    if (u === '') throw new Error(`time: missing unit in duration ${quoted}`);
    if (!(u in units)) throw new Error(`time: unknown unit ${JSON.stringify(u)} in duration ${quoted}`);
    rest = rest.slice(u.length);
    total += Number(`${m[1] || '0'}.${m[2] || '0'}`) * units[u];
  }
  return sign * Math.round(total);
}
