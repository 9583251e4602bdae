/**
 * One instruction applied to a stage's state: variables expanded, the image
 * config it leaves behind, what (if anything) must touch the filesystem, and
 * the history text the legacy builder records. Pure: nothing runs here.
 *
 *   const st = newStageState(baseConfig, args.forStage(), '\\');
 *   const step = applyInstruction(st, envInstruction);  // kind 'config', createdBy '/bin/sh -c #(nop)  ENV A=1'
 */
import type { ContainerConfig } from '../containers/types.js';
import type { StageArgs } from './args.js';
import { ShellLex, envOf, type EnvLookup } from './dockerfile/expand.js';
import { chompHeredoc, parseHeredocWord } from './dockerfile/parser.js';
import type { CommandInstruction, CopyInstruction, Instruction, InlineSource } from './dockerfile/instructions.js';
import { posix } from 'node:path';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** A file the executor must provide to a RUN, e.g. a `#!` heredoc script. */
export interface InlineFile { path: string; data: string; mode: number }

interface StepBase {
  /** Index of the stage the step belongs to (-1 for global ARGs). */
  stage: number;
  /** Dockerfile line of the instruction (FROM's line for ONBUILD triggers). */
  line: number;
  /** Printed before the step runs: `Step 3/9 : RUN make`, or `# Executing 2 build triggers`. */
  display?: string;
  /** The image config once the step is done. */
  config: ContainerConfig;
  /** Image author (MAINTAINER), carried along. */
  author?: string;
  /**
   * History's CreatedBy, which is also the instruction part of the cache key.
   * For COPY/ADD it lacks the source checksum; see cache-key.ts.
   */
  createdBy: string;
}

/** A global ARG: printed as a step, nothing to run or commit. */
export type MetaArgStep = StepBase & { kind: 'meta-arg' };
/** Start a stage from an image, an earlier stage, or nothing. */
export type FromStep = StepBase & { kind: 'from'; base: { image: string } | { stage: number } | { scratch: true }; platform?: string };
/** Run a command in a container of the current image, then commit. */
export type RunStep = StepBase & {
  kind: 'run';
  argv: string[];
  /** Container environment: config Env plus visible build args. */
  env: string[];
  files: InlineFile[];
  /** Build args recorded for this RUN (part of history text and cache key). */
  buildArgs: Record<string, string>;
};
/** Copy sources from the context, a stage or an image into the image, then commit. */
export type CopyStep = StepBase & {
  kind: 'copy';
  add: boolean;
  /** Patterns as written after expansion, relative to the source root. */
  sources: string[];
  /** ADD only: `http(s)://` sources, to be downloaded rather than looked up in the context. */
  urls: string[];
  /** Heredoc files, written as `dest/<name>` (or `dest` itself for one source and no trailing slash). */
  inline: InlineSource[];
  /** Absolute; a trailing `/` is kept because it means "into this directory". */
  dest: string;
  chown?: string;
  chmod?: string;
  from?: { stage: number } | { image: string };
};
/** Create the working directory if missing, then commit. */
export type WorkdirStep = StepBase & { kind: 'workdir'; path: string };
/** Metadata only: commit a new config with no filesystem change. */
export type ConfigStep = StepBase & { kind: 'config' };

export type Step = MetaArgStep | FromStep | RunStep | CopyStep | WorkdirStep | ConfigStep;

export interface StageState {
  config: ContainerConfig;
  author?: string;
  args: StageArgs;
  lex: ShellLex;
  /** CMD was set in this stage (ENTRYPOINT then keeps it). */
  cmdSet: boolean;
  /** Resolves COPY --from (set by the planner). */
  resolveFrom: (from: string, line: number) => { stage: number } | { image: string };
}

/** Copies the base config as a new stage starts: default PATH, stdin flags off, triggers consumed. */
export function startConfig(base: ContainerConfig | undefined): ContainerConfig {
  const c: ContainerConfig = structuredClone(base ?? {});
  if (!(c.Env ?? []).some((e) => e.startsWith('PATH='))) c.Env = [...(c.Env ?? []), `PATH=${DEFAULT_PATH}`];
  c.OpenStdin = false;
  c.StdinOnce = false;
  c.OnBuild = null;
  return c;
}

/** Variables an instruction expands with: visible build args, overridden by the config's Env. */
export function expansionEnv(st: StageState): EnvLookup {
  const m = new Map(st.args.visible());
  for (const e of st.config.Env ?? []) {
    const i = e.indexOf('=');
    m.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  return envOf(m);
}

const shellOf = (c: ContainerConfig) => (c.Shell && c.Shell.length ? c.Shell : DEFAULT_SHELL);
const goQ = (list: readonly string[]) => `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;
const goV = (list: readonly string[]) => `[${list.join(' ')}]`;
/** Metadata commits: `/bin/sh -c #(nop)  ENV A=1` (two spaces, as Docker joins them). */
const nop = (c: ContainerConfig, text: string) => [...shellOf(c), '#(nop) ', text].join(' ');

/** Applies one instruction; `st` is updated in place and the resulting step returned. */
export function applyInstruction(st: StageState, ins: Instruction, stage: number): Step {
  const env = expansionEnv(st);
  const x = (w: string) => st.lex.processWord(w, env).result;
  const prev = st.config;
  const c: ContainerConfig = structuredClone(prev);
  const base = { stage, line: ins.line };
  const done = (createdBy: string): ConfigStep => {
    st.config = c;
    return { ...base, kind: 'config', config: c, author: st.author, createdBy: nop(prev, createdBy) };
  };
  switch (ins.kind) {
    case 'ENV': {
      const pairs = ins.pairs.map((p) => ({ key: x(p.key), value: x(p.value) }));
      const list = [...(c.Env ?? [])];
      for (const { key, value } of pairs) {
        const i = list.findIndex((e) => e === key || e.startsWith(key + '='));
        if (i >= 0) list[i] = `${key}=${value}`;
        else list.push(`${key}=${value}`);
      }
      c.Env = list;
      return done('ENV' + pairs.map((p) => ` ${p.key}=${p.value}`).join(''));
    }
    case 'LABEL': {
      const pairs = ins.literal ? ins.pairs : ins.pairs.map((p) => ({ key: x(p.key), value: x(p.value) }));
      c.Labels = { ...(c.Labels ?? {}) };
      for (const p of pairs) c.Labels[p.key] = p.value;
      return done('LABEL' + pairs.map((p) => ` ${p.key}=${p.value}`).join(''));
    }
    case 'MAINTAINER':
      st.author = ins.maintainer;
      return done(`MAINTAINER ${ins.maintainer}`);
    case 'ARG': {
      const parts: string[] = [];
      for (const a of ins.args) {
        const key = x(a.key);
        const value = a.value === undefined ? undefined : x(a.value);
        st.args.declare(key, value);
        parts.push(value === undefined ? key : `${key}=${value}`);
      }
      return done(`ARG ${parts.join(' ')}`);
    }
    case 'CMD': {
      c.Cmd = ins.shellForm ? [...shellOf(prev), ...ins.cmd] : [...ins.cmd];
      st.cmdSet = true;
      return done(`CMD ${goQ(c.Cmd)}`);
    }
    case 'ENTRYPOINT': {
      c.Entrypoint = ins.shellForm ? [...shellOf(prev), ...ins.cmd] : [...ins.cmd];
      if (!st.cmdSet) c.Cmd = null;
      return done(`ENTRYPOINT ${goQ(c.Entrypoint)}`);
    }
    case 'EXPOSE': {
      const ports = ins.ports.flatMap((p) => st.lex.processWords(p, env));
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
      for (const p of ports) for (const key of portKeys(p)) c.ExposedPorts[key] = {};
      return done(`EXPOSE ${ports.join(' ')}`);
    }
    case 'VOLUME': {
      const vols = ins.paths.map(x);
      if (vols.some((v) => v.trim() === '')) throw new Error('VOLUME specified can not be an empty string');
      c.Volumes = { ...(c.Volumes ?? {}) };
      for (const v of vols) c.Volumes[v] = {};
      return done(`VOLUME ${goV(vols)}`);
    }
    case 'USER':
      c.User = x(ins.user);
      return done(`USER ${c.User}`);
    case 'STOPSIGNAL': {
      const sig = x(ins.signal);
      if (!validSignal(sig)) throw new Error(`Invalid signal: ${sig}`);
      c.StopSignal = sig;
      return done(`STOPSIGNAL ${sig}`);
    }
    case 'HEALTHCHECK': {
      const h = ins.health;
      // Zero durations are omitted, as Go's omitempty leaves them out of Docker's config.
      c.Healthcheck = { Test: h.Test };
      for (const k of ['Interval', 'Timeout', 'StartPeriod', 'Retries'] as const) if (h[k]) c.Healthcheck[k] = h[k];
      if (h.Test[0] === 'NONE') c.Healthcheck = { Test: ['NONE'] };
      return done(`HEALTHCHECK ${goQ(h.Test)}`);
    }
    case 'SHELL':
      c.Shell = [...ins.shell];
      return done(`SHELL ${goV(ins.shell)}`);
    case 'ONBUILD':
      c.OnBuild = [...(c.OnBuild ?? []), ins.expression];
      return done(`ONBUILD ${ins.expression}`);
    case 'WORKDIR': {
      const req = x(ins.path);
      if (req === '') throw new Error('cannot normalize nothing');
      c.WorkingDir = posix.isAbsolute(req) ? posix.normalize(req) : posix.join('/', prev.WorkingDir || '/', req);
      if (c.WorkingDir.length > 1) c.WorkingDir = c.WorkingDir.replace(/\/+$/, '');
      st.config = c;
      return {
        ...base, kind: 'workdir', path: c.WorkingDir, config: c, author: st.author,
        createdBy: [...shellOf(prev), `#(nop) WORKDIR ${c.WorkingDir}`].join(' '),
      };
    }
    case 'RUN':
      return runStep(st, ins, base);
    case 'COPY':
    case 'ADD':
      return copyStep(st, ins, base, x);
    case 'FROM':
      throw new Error('FROM is handled by the planner');
  }
}

function runStep(st: StageState, ins: CommandInstruction, base: { stage: number; line: number }): RunStep {
  const c = st.config;
  let args = ins.cmd;
  const files: InlineFile[] = [];
  if (ins.heredocs.length > 0) {
    if (args.length !== 1 || !ins.shellForm) throw new Error(`parsing produced an invalid run command: ${goV(args)}`);
    if (parseHeredocWord(args[0])) {
      const doc = ins.heredocs[0];
      const data = doc.chomp ? chompHeredoc(doc.content) : doc.content;
      if (data.startsWith('#!')) {
        // A script with its own interpreter runs as a file, as BuildKit does.
        const path = posix.join('/dev/pipes', doc.name);
        files.push({ path, data, mode: 0o755 });
        args = [path];
      } else {
        args = [data];
      }
    } else {
      args = [ins.heredocs.reduce((s, h) => `${s}\n${h.content}${h.name}`, args[0])];
    }
  }
  const argv = ins.shellForm && files.length === 0 ? [...shellOf(c), ...args] : args;
  const visible = st.args.visible();
  const configKeys = new Set((c.Env ?? []).map((e) => e.split('=')[0]));
  const passed = [...visible].filter(([k]) => !configKeys.has(k));
  const recorded = passed.filter(([k]) => st.args.recorded(k)).map(([k, v]) => `${k}=${v}`).sort();
  const createdBy = (recorded.length ? [`|${recorded.length}`, ...recorded, ...argv] : argv).join(' ');
  return {
    ...base, kind: 'run', argv, files, config: c, author: st.author, createdBy,
    env: [...(c.Env ?? []), ...passed.map(([k, v]) => `${k}=${v}`)],
    buildArgs: Object.fromEntries(passed.filter(([k]) => st.args.recorded(k))),
  };
}

function copyStep(st: StageState, ins: CopyInstruction, base: { stage: number; line: number }, x: (w: string) => string): CopyStep {
  const c = st.config;
  const expanded = ins.sources.map(x);
  const isUrl = (s: string) => ins.kind === 'ADD' && /^https?:\/\//i.test(s);
  const sources = expanded.filter((s) => !isUrl(s));
  const urls = expanded.filter(isUrl);
  const destRaw = x(ins.dest);
  const slash = destRaw.endsWith('/');
  let dest = posix.isAbsolute(destRaw) ? destRaw : posix.join('/', c.WorkingDir || '/', destRaw);
  if (slash && !dest.endsWith('/')) dest += '/';
  const inline = ins.inline.map((s) => (s.expand ? { ...s, data: expandHeredocBody(st, s.data) } : s));
  const step: CopyStep = {
    ...base, kind: 'copy', add: ins.kind === 'ADD', sources, urls, inline, dest, config: c, author: st.author,
    createdBy: [...shellOf(c), `#(nop) ${ins.kind}`].join(' '),
  };
  if (ins.chown !== undefined) step.chown = x(ins.chown);
  if (ins.chmod !== undefined) {
    step.chmod = x(ins.chmod);
    if (!/^[0-7]{1,4}$/.test(step.chmod)) throw new Error(`invalid chmod parameter: ${step.chmod}`);
  }
  if (ins.from !== undefined) step.from = st.resolveFrom(ins.from, ins.line);
  return step;
}

/** Unquoted heredoc bodies expand variables but keep quotes, as BuildKit does. */
function expandHeredocBody(st: StageState, data: string): string {
  return new ShellLex({ skipProcessQuotes: true }).processWord(data, expansionEnv(st)).result;
}

/** `80`, `80/udp`, `8000-8002/tcp` → `80/tcp`, ... as ExposedPorts keys. */
function portKeys(spec: string): string[] {
  const m = /^(?:(?:[^:]*:)?[^:]*:)?(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (!m) throw new Error(`invalid containerPort: ${spec}`);
  const lo = Number(m[1]);
  const hi = m[2] ? Number(m[2]) : lo;
  if (lo > 65535 || hi > 65535 || hi < lo) throw new Error(`invalid containerPort: ${spec}`);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  const out: string[] = [];
  for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  return out;
}

const SIGNALS = new Set(['ABRT', 'ALRM', 'BUS', 'CHLD', 'CLD', 'CONT', 'FPE', 'HUP', 'ILL', 'INT', 'IO', 'IOT', 'KILL', 'PIPE', 'POLL',
  'PROF', 'PWR', 'QUIT', 'SEGV', 'STKFLT', 'STOP', 'SYS', 'TERM', 'TRAP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'USR1', 'USR2', 'VTALRM',
  'WINCH', 'XCPU', 'XFSZ']);

/** Signal names as Docker accepts them: `SIGKILL`, `KILL`, `9`, `SIGRTMIN+3`. */
function validSignal(sig: string): boolean {
  if (/^\d+$/.test(sig)) return Number(sig) > 0 && Number(sig) <= 64;
  const name = sig.toUpperCase().replace(/^SIG/, '');
  return SIGNALS.has(name) || /^RTMIN(\+\d+)?$|^RTMAX(-\d+)?$/.test(name);
}
