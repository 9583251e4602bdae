/**
 * The build plan: which stages to build for a target, in which order, and
 * every step fully expanded, with the `Step N/M : ...` line the legacy
 * builder prints. Planning runs before anything executes, so every
 * Dockerfile error (bad instruction, bad variable, unknown stage) surfaces
 * first. It needs the configs of the base images, which the executor looks up
 * (or pulls) between the two calls:
 *
 *   const df = parseStages(text);
 *   const refs = requiredImages(df, opts);                 // ['busybox:1']
 *   const configs = new Map(refs.map((r) => [r, images.inspect(r).Config]));
 *   const plan = planBuild(df, { ...opts, baseConfigs: configs });
 *   for (const step of plan.steps) {
 *     if (step.display) out.write(step.display + '\n');
 *     switch (step.kind) {
 *       case 'meta-arg': break;                            // nothing to do
 *       case 'from': parent = idOf(step.base); break;      // image ID, earlier stage's result, or scratch
 *       case 'run': case 'copy': case 'workdir': case 'config':
 *         key = stepCacheKey(parent, step, sourcesDigest); // cache-key.ts
 *         parent = cache.get(key) ?? execute(step, parent); // commit with step.config and step.createdBy
 *     }
 *     results[step.stage] = parent;
 *   }
 *   if (plan.unusedArgsWarning) out.write(plan.unusedArgsWarning + '\n');
 *   // the image is results[plan.target]
 */
import type { ContainerConfig } from '../containers/types.js';
import { BuildArgs, unusedArgsWarning } from './args.js';
import { DockerfileError } from './dockerfile/errors.js';
import { ShellLex, envOf } from './dockerfile/expand.js';
import { parseInstruction, type Instruction, type ParsedDockerfile, type Stage } from './dockerfile/instructions.js';
import { parseDockerfile } from './dockerfile/parser.js';
import { formatPlatform, hostBuildPlatform, parsePlatform, platformArgs } from './platform.js';
import { applyInstruction, startConfig, type FromStep, type StageState, type Step } from './steps.js';

export type { Step } from './steps.js';

export interface PlanOptions {
  /** `--build-arg` values; null means named without a value. */
  buildArgs?: Record<string, string | null>;
  /** `--target`: the stage to stop at (default: the last). */
  target?: string;
  /** Name used in error messages, e.g. `Dockerfile` or `sub/app.Dockerfile`. */
  file?: string;
  /** `--label`: one literal `LABEL k=v` step each, sorted, appended to the target stage as Docker does. */
  labels?: Record<string, string>;
  /** `--platform` of the build (default: the host's); sets TARGETPLATFORM and friends. */
  platform?: string;
}

export interface BuildPlan {
  /** Steps in execution order, global ARGs first. */
  steps: Step[];
  /** Indexes of the stages that will be built, in order. */
  stages: number[];
  /** The stage whose result is the build's image. */
  target: number;
  /** M in `Step N/M`. */
  total: number;
  /** `[Warning] One or more build-args [x] were not consumed`, if any. */
  unusedArgsWarning?: string;
  /** Parser warnings (empty continuation lines). */
  warnings: string[];
}

interface StageBase {
  ref: string;
  platform?: string;
  /** Earlier stage this one starts from, if any. */
  stage?: number;
}

const fail = (file: string, line: number, e: unknown): never => {
  if (e instanceof DockerfileError) throw e;
  throw new DockerfileError(file, line, (e as Error).message);
};

/** Resolves global ARGs and each stage's FROM; shared by both phases. */
function resolveBases(df: ParsedDockerfile, opts: PlanOptions): { args: BuildArgs; bases: StageBase[] } {
  const file = opts.file ?? 'Dockerfile';
  // A bad `--platform` is the request's fault, not a line's: no `Dockerfile:N` on it.
  const target = opts.platform ? parsePlatform(opts.platform) : hostBuildPlatform();
  const args = new BuildArgs(opts.buildArgs, platformArgs(target));
  const lex = new ShellLex({ escapeToken: df.escapeToken });
  for (const m of df.metaArgs) {
    for (const a of m.args) {
      try {
        const env = envOf(args.metaEnv());
        const key = lex.processWord(a.key, env).result;
        args.declareMeta(key, a.value === undefined ? undefined : lex.processWord(a.value, env).result);
      } catch (e) {
        fail(file, m.line, e);
      }
    }
  }
  const bases = df.stages.map((s): StageBase => {
    try {
      const env = envOf(args.metaEnv());
      const ref = lex.processWord(s.from.base, env).result;
      if (ref === '') throw new Error(`base name (${s.from.base}) should not be blank`);
      // Checked here, before anything runs; the executor matches it against the base image.
      const platform = s.from.platform === undefined ? undefined : formatPlatform(parsePlatform(lex.processWord(s.from.platform, env).result));
      const earlier = df.stages.findIndex((o) => o.index < s.index && o.name !== undefined && o.name === ref.toLowerCase());
      return { ref, platform, stage: earlier >= 0 ? earlier : undefined };
    } catch (e) {
      return fail(file, s.from.line, e);
    }
  });
  const seen = new Set<string>();
  for (const s of df.stages) {
    if (s.name === undefined) continue;
    if (seen.has(s.name)) fail(file, s.from.line, new Error(`${s.name} stage name already used`));
    seen.add(s.name);
  }
  return { args, bases };
}

function targetIndex(df: ParsedDockerfile, opts: PlanOptions): number {
  if (df.stages.length === 0) throw new DockerfileError(opts.file ?? 'Dockerfile', 1, 'dockerfile contains no stages to build');
  if (!opts.target) return df.stages.length - 1;
  const i = df.stages.findIndex((s) => s.name === opts.target!.toLowerCase());
  if (i < 0) throw new DockerfileError(opts.file ?? 'Dockerfile', 1, `failed to reach build target ${opts.target} in Dockerfile`);
  return i;
}

/** The stage a `COPY --from` names, if it names one: a name or an index. */
function fromStage(df: ParsedDockerfile, from: string): number | undefined {
  if (/^\d+$/.test(from)) return Number(from);
  const i = df.stages.findIndex((s) => s.name === from.toLowerCase());
  return i >= 0 ? i : undefined;
}

/**
 * Stages the target needs, through FROM <stage> and COPY --from. ONBUILD
 * triggers are not looked at: their base config is only known while planning,
 * and a trigger copying from a stage of the Dockerfile it lands in is rare.
 */
function neededStages(df: ParsedDockerfile, bases: StageBase[], target: number): number[] {
  const need = new Set<number>();
  const visit = (i: number) => {
    if (need.has(i) || i < 0 || i >= df.stages.length) return;
    need.add(i);
    if (bases[i].stage !== undefined) visit(bases[i].stage!);
    for (const c of df.stages[i].commands) {
      if (c.kind === 'COPY' && c.from !== undefined) {
        const s = fromStage(df, c.from);
        if (s !== undefined && s < i) visit(s);
      }
    }
  };
  visit(target);
  return [...need].sort((a, b) => a - b);
}

/**
 * Image references the build needs configs (or contents) of: FROM bases and
 * `COPY --from=<image>` of the stages the target needs. `scratch` is not one.
 */
export function requiredImages(df: ParsedDockerfile, opts: PlanOptions = {}): string[] {
  const { bases } = resolveBases(df, opts);
  const out = new Set<string>();
  for (const i of neededStages(df, bases, targetIndex(df, opts))) {
    if (bases[i].stage === undefined && bases[i].ref.toLowerCase() !== 'scratch') out.add(bases[i].ref);
    for (const c of df.stages[i].commands) {
      if (c.kind === 'COPY' && c.from !== undefined && fromStage(df, c.from) === undefined) out.add(c.from);
    }
  }
  return [...out];
}

/** Plans the build. `baseConfigs` holds the Config of every image `requiredImages` named. */
export function planBuild(df: ParsedDockerfile, opts: PlanOptions & { baseConfigs: Map<string, ContainerConfig> }): BuildPlan {
  const file = opts.file ?? 'Dockerfile';
  const { args, bases } = resolveBases(df, opts);
  const target = targetIndex(df, opts);
  const lex = new ShellLex({ escapeToken: df.escapeToken });

  // Configs of stages built so far: a later FROM <stage> starts from them.
  const finalConfigs = new Map<number, ContainerConfig>();
  const baseConfig = (i: number): ContainerConfig | undefined => {
    const b = bases[i];
    if (b.stage !== undefined) return finalConfigs.get(b.stage);
    if (b.ref.toLowerCase() === 'scratch') return undefined;
    const c = opts.baseConfigs.get(b.ref);
    if (!c) throw new Error(`no config for base image ${b.ref}`);
    return c;
  };
  const stages = neededStages(df, bases, target);

  const labelSteps: Instruction[] = Object.keys(opts.labels ?? {}).sort().map((key) => {
    const value = opts.labels![key];
    const line = df.stages[target].from.line;
    return { kind: 'LABEL', pairs: [{ key, value }], literal: true, line, endLine: line, code: `LABEL ${key}=${value}` };
  });
  const commandsOf = (i: number) => (i === target ? [...df.stages[i].commands, ...labelSteps] : df.stages[i].commands);
  const steps: Step[] = [];
  const total = df.metaArgs.length + stages.reduce((n, i) => n + 1 + commandsOf(i).length, 0);
  let n = 0;
  const display = (code: string) => `Step ${++n}/${total} : ${code}`;
  for (const m of df.metaArgs) {
    steps.push({ kind: 'meta-arg', stage: -1, line: m.line, display: display(m.code), config: {}, createdBy: '' });
  }
  for (const i of stages) {
    const stage = df.stages[i];
    const base = baseConfig(i);
    const st: StageState = {
      config: startConfig(base), args: args.forStage(), lex, cmdSet: false,
      resolveFrom: (from, line) => resolveCopyFrom(df, stage, from, line, file),
    };
    const b = bases[i];
    const from: FromStep = {
      kind: 'from', stage: i, line: stage.from.line, display: display(stage.from.code), config: st.config, createdBy: '',
      base: b.stage !== undefined ? { stage: b.stage } : b.ref.toLowerCase() === 'scratch' ? { scratch: true } : { image: b.ref },
    };
    if (b.platform) from.platform = b.platform;
    steps.push(from);
    const triggers = parseTriggers(base?.OnBuild ?? [], file, stage.from.line);
    triggers.forEach((t, k) => {
      const s = plan1(st, t, i, file, stage.from.line);
      if (k === 0) s.display = `# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}`;
      steps.push(s);
    });
    for (const c of commandsOf(i)) {
      const s = plan1(st, c, i, file, c.line);
      s.display = display(c.code);
      steps.push(s);
    }
    finalConfigs.set(i, st.config);
  }
  return { steps, stages, target, total, warnings: df.warnings, unusedArgsWarning: unusedArgsWarning(args.unconsumed()) };
}

function plan1(st: StageState, ins: Instruction, stage: number, file: string, line: number): Step {
  try {
    return applyInstruction(st, ins, stage);
  } catch (e) {
    return fail(file, line, e);
  }
}

/** ONBUILD expressions from a base image, parsed as instructions. */
function parseTriggers(exprs: string[], file: string, line: number): Instruction[] {
  return exprs.map((expr) => {
    try {
      // A trigger is a one-instruction Dockerfile of its own (it may carry heredocs).
      const { nodes } = parseDockerfile(expr, file);
      if (nodes.length !== 1) throw new Error('onbuild trigger should be a single expression');
      const ins = parseInstruction(nodes[0], file);
      if (ins.kind === 'FROM' || ins.kind === 'ONBUILD' || ins.kind === 'MAINTAINER') {
        throw new Error(`${ins.kind} isn't allowed as an ONBUILD trigger`);
      }
      return { ...ins, line, endLine: line };
    } catch (e) {
      return fail(file, line, e);
    }
  });
}

function resolveCopyFrom(df: ParsedDockerfile, current: Stage, from: string, line: number, file: string): { stage: number } | { image: string } {
  const i = fromStage(df, from);
  if (i === undefined) return { image: from };
  if (/^\d+$/.test(from) && i >= current.index) fail(file, line, new Error(`invalid stage index ${i}`));
  if (i >= current.index) {
    fail(file, line, new Error(`cannot copy from stage ${JSON.stringify(from)}, it needs to be defined before current stage ${JSON.stringify(current.name ?? String(current.index))}`));
  }
  return { stage: i };
}
