/**
 * The build executor: runs a plan (plan.ts) against a BuildEngine, step by
 * step, with the layer cache, printing what the legacy builder prints.
 *
 *   const id = await runBuild({ engine, cache, context: ctx, out }, { dockerfile: 'Dockerfile', tags: ['app:1'] });
 *   // out.stream('Step 1/3 : FROM busybox\n'), …, out.aux('sha256:…'), out.stream('Successfully built 3161b6d9ed0e\n')
 *
 * RUN goes through a real container; COPY/ADD and WORKDIR write their layer
 * directly (copy-layer.ts); metadata-only steps add a config and a history
 * row, no layer. A failing step throws BuildFailed: no tag moves.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { join, posix } from 'node:path';
import { BerthError, InvalidArgument, NotFound } from '../../common/errors.js';
import { log } from '../../common/log.js';
import type { ContainerConfig } from '../containers/types.js';
import { familiar, parseRepoTag } from '../images/reference.js';
import { CacheFromSources } from './cache-from.js';
import type { BuildCache } from './cache-store.js';
import { copyCreatedBy, stepCacheKey } from './cache-key.js';
import type { BuildContext } from './context.js';
import { copyTargets, resolveInRoot, resolveSources, type CopySource } from './context/sources.js';
import { copyLayer, resolveChown } from './copy-layer.js';
import { parseStages } from './dockerfile/instructions.js';
import type { BuildEngine } from './engine.js';
import { messages, runFailedMessage } from './messages.js';
import { planBuild, requiredImages } from './plan.js';
import { formatPlatform, parsePlatform, platformMatches } from './platform.js';
import type { ConfigStep, CopyStep, FromStep, RunStep, Step, WorkdirStep } from './steps.js';

export interface BuildOptions {
  /** Path of the Dockerfile inside the context. */
  dockerfile?: string;
  /** `-t`: names to point at the result. */
  tags?: string[];
  buildArgs?: Record<string, string | null>;
  target?: string;
  labels?: Record<string, string>;
  noCache?: boolean;
  /** `--pull`: there is no registry to pull from here; noted and otherwise ignored. */
  pull?: boolean;
  /** Remove intermediate containers after a successful step (default true). */
  rm?: boolean;
  /** Remove them even after a failed step. */
  forceRm?: boolean;
  networkMode?: string;
  extraHosts?: string[];
  shmSize?: number;
  /** `--platform`: the platform base images must have (and TARGETPLATFORM). */
  platform?: string;
  /** `--cache-from`: images whose history may stand in for the local cache. */
  cacheFrom?: string[];
}

/** Where progress goes: text for the `stream` field, the image ID for `aux`. */
export interface BuildOutput {
  stream(text: string): void;
  aux(imageId: string): void;
}

/** A build that ran and failed (a RUN's exit code is kept for the client). */
export class BuildFailed extends BerthError {
  readonly status = 500;
  constructor(message: string, readonly code?: number) {
    super(message);
  }
}

interface Deps {
  engine: BuildEngine;
  cache: BuildCache;
  context: BuildContext;
  out: BuildOutput;
}

/** Builds and tags the image; returns its ID. */
export async function runBuild(deps: Deps, opts: BuildOptions): Promise<string> {
  const { engine, context, out } = deps;
  const file = opts.dockerfile || 'Dockerfile';
  // Names are checked first: a bad -t must not cost a build.
  const names = (opts.tags ?? []).map((t) => parseRepoTag(t));
  const text = await context.readDockerfile(file);
  await context.hideBuildFiles(file);
  const df = parseStages(text, posix.basename(file));
  const planOpts = { buildArgs: opts.buildArgs, target: opts.target, labels: opts.labels, file: posix.basename(file), platform: opts.platform };
  const images = new Map<string, BaseImage>();
  for (const ref of requiredImages(df, planOpts)) {
    const img = findImage(engine, ref);
    images.set(ref, { id: img.id, config: img.config.config ?? {}, platform: img.config });
  }
  const plan = planBuild(df, { ...planOpts, baseConfigs: new Map([...images].map(([r, v]) => [r, v.config])) });
  for (const w of plan.warnings) out.stream(w + '\n');

  const results = new Map<number, string | undefined>();
  const exec = new StepRunner(deps, opts, images, (stage) => results.get(stage));
  try {
    let parent: string | undefined;
    for (const step of plan.steps) {
      if (step.display) out.stream(step.display + '\n');
      if (step.kind === 'meta-arg') continue;
      if (step.kind === 'from') {
        // After its `Step n/m : FROM` line, where Docker reports a mismatch too.
        checkPlatform(step, opts.platform, images);
        exec.newStage();
        if ('stage' in step.base) parent = results.get(step.base.stage);
        else if ('image' in step.base) parent = images.get(step.base.image)!.id;
        else parent = undefined;
        if (opts.pull && 'image' in step.base) out.stream(`Note: --pull: no registry reachable, using the local ${step.base.image}\n`);
        if (parent) out.stream(messages.imageId(parent));
      } else {
        parent = await exec.step(step, parent);
        out.stream(messages.imageId(parent));
      }
      results.set(step.stage, parent);
    }
    const id = results.get(plan.target);
    if (!id) throw new BuildFailed('No image was generated. Is your Dockerfile empty?');
    if (plan.unusedArgsWarning) out.stream(plan.unusedArgsWarning + '\n');
    out.aux(id);
    out.stream(messages.successfullyBuilt(id));
    if (names.length) await engine.tag(id, opts.tags!);
    for (const n of names) out.stream(messages.successfullyTagged(familiar(n)));
    return id;
  } finally {
    await exec.settle();
  }
}

/** A base image (FROM or COPY --from) as the build found it. */
interface BaseImage {
  id: string;
  config: ContainerConfig;
  platform: { os?: string; architecture?: string; variant?: string };
}

/**
 * `FROM --platform=` (or the build's `--platform`) against the local image:
 * with no registry to fetch the right variant from, a mismatch is final.
 */
function checkPlatform(step: FromStep, buildPlatform: string | undefined, images: Map<string, BaseImage>): void {
  const spec = step.platform ?? buildPlatform;
  if (!spec || !('image' in step.base)) return;
  const want = parsePlatform(spec);
  const have = images.get(step.base.image)!.platform;
  if (platformMatches(want, have)) return;
  const actual = formatPlatform({ os: have.os ?? 'linux', architecture: have.architecture ?? '', variant: have.variant });
  throw new NotFound(`image with reference ${step.base.image} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${actual}`);
}

function findImage(engine: BuildEngine, ref: string) {
  try {
    return engine.image(ref);
  } catch (e) {
    if (!(e instanceof NotFound)) throw e;
    // What the legacy builder says when its pull fails; there is no registry to pull from.
    throw new NotFound(`pull access denied for ${ref.replace(/:.*$/, '')}, repository does not exist or may require 'docker login': no image ${ref} here and no registry to pull it from`);
  }
}

/**
 * `RUN <<EOF` with a `#!` body runs the script as a file (steps.ts puts it
 * under /dev/pipes, as BuildKit does): write the files to a host directory
 * and bind it there read-only for the RUN's container.
 */
async function scriptMounts(step: RunStep): Promise<{ binds: string[]; cleanup: () => Promise<void> }> {
  if (step.files.length === 0) return { binds: [], cleanup: async () => undefined };
  const dir = await mkdtemp(join(tmpdir(), 'berth-build-run-'));
  const binds = new Set<string>();
  for (const f of step.files) {
    const host = join(dir, posix.dirname(f.path));
    await mkdir(host, { recursive: true });
    await writeFile(join(host, posix.basename(f.path)), f.data, { mode: f.mode });
    binds.add(`${host}:${posix.dirname(f.path)}:ro`);
  }
  return { binds: [...binds], cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Executes one step at a time, through the cache. */
class StepRunner {
  private readonly removals: Promise<void>[] = [];
  private readonly cacheFrom: CacheFromSources;

  constructor(
    private deps: Deps, private opts: BuildOptions, private images: Map<string, { id: string }>,
    private stageResult: (stage: number) => string | undefined,
  ) {
    this.cacheFrom = new CacheFromSources(deps.engine, opts.noCache ? [] : opts.cacheFrom ?? []);
  }

  /** A new stage begins (FROM). */
  newStage(): void {
    this.cacheFrom.reset();
  }

  async step(step: Exclude<Step, { kind: 'meta-arg' | 'from' }>, parent: string | undefined): Promise<string> {
    if (step.kind === 'copy') return this.copy(step, parent);
    const key = stepCacheKey(parent ?? '', step);
    const hit = await this.cached(key, parent, step.createdBy, step.config);
    if (hit) return hit;
    const meta = { config: step.config, createdBy: step.createdBy, author: step.author };
    let id: string;
    if (step.kind === 'run') id = await this.run(step, parent);
    else if (step.kind === 'workdir') id = await this.inContainer(step, parent, () => this.workdir(step, parent));
    else id = await this.inContainer(step, parent, () => this.deps.engine.commitConfig(parent, meta));
    await this.deps.cache.set(key, id);
    return id;
  }

  /**
   * The legacy builder commits a metadata step (ENV, WORKDIR, ...) from a
   * container it creates and never starts, and prints that container's life.
   * We do the same so the output names real containers; the commit itself
   * needs no diff (the container never ran), so `commit` works from the image.
   * On scratch there is nothing to create a container from: no lines then.
   */
  private async inContainer(step: ConfigStep | WorkdirStep, parent: string | undefined, commit: () => Promise<string>): Promise<string> {
    if (!parent) return commit();
    const { engine, out } = this.deps;
    const created = engine.createContainer({
      imageId: parent, argv: ['/bin/sh', '-c', step.createdBy.replace(/^.*?#\(nop\) /, '#(nop) ')], env: step.config.Env ?? [],
      user: step.config.User, workingDir: step.config.WorkingDir, networkMode: this.opts.networkMode,
      onCreated: (id) => out.stream(messages.runningIn(id)),
    });
    // The commit does not read the container, so both go at once.
    const committed = commit();
    const [made, image] = await Promise.allSettled([created, committed]);
    if (made.status === 'fulfilled' && (this.opts.rm !== false || this.opts.forceRm)) this.remove(made.value);
    if (made.status === 'rejected') throw made.reason;
    if (image.status === 'rejected') throw image.reason;
    return image.value;
  }

  /**
   * Waits for the intermediate containers still being removed. Removal runs
   * behind the next step (unmounting and deleting a RUN's upper dir takes a
   * while); the build answers only once every one is gone.
   */
  async settle(): Promise<void> {
    await Promise.all(this.removals);
  }

  /** The step's result from the local cache or a --cache-from image (printing `Using cache`), if there is one. */
  private async cached(key: string, parent: string | undefined, createdBy: string, config: ContainerConfig): Promise<string | undefined> {
    if (this.opts.noCache) return undefined;
    let id = this.deps.cache.get(key);
    if (id && (!this.deps.engine.exists(id) || (this.cacheFrom.active && !this.cacheFrom.acceptsLocal(id)))) id = undefined;
    if (!id && this.cacheFrom.active) {
      id = await this.cacheFrom.lookup(parent, createdBy, config);
      // Remembered locally too, so the next build finds it without the sources.
      if (id) await this.deps.cache.set(key, id);
    }
    if (id) this.deps.out.stream(messages.usingCache());
    return id;
  }

  private async run(step: RunStep, parent: string | undefined): Promise<string> {
    const { engine, out } = this.deps;
    if (!parent) throw new BuildFailed(`${runFailedMessage(step, 127)}: there is no shell in an empty (scratch) image`, 127);
    let containerId = '';
    const scripts = await scriptMounts(step);
    // Output arrives in arbitrary chunks; never split a UTF-8 character across two lines of the stream.
    const decoder = new StringDecoder('utf8');
    let res: { containerId: string; exitCode: number };
    try {
      res = await engine.run({
        imageId: parent, argv: step.argv, env: step.env, user: step.config.User, workingDir: step.config.WorkingDir,
        networkMode: this.opts.networkMode, extraHosts: this.opts.extraHosts, shmSize: this.opts.shmSize, binds: scripts.binds,
        onCreated: (id) => { containerId = id; out.stream(messages.runningIn(id)); },
      }, (chunk) => { const text = decoder.write(chunk); if (text) out.stream(text); });
    } finally {
      await scripts.cleanup();
    }
    if (res.exitCode !== 0) {
      if (this.opts.forceRm) this.remove(res.containerId);
      throw new BuildFailed(runFailedMessage(step, res.exitCode), res.exitCode);
    }
    try {
      return await engine.commitContainer(containerId, parent, { config: step.config, createdBy: step.createdBy, author: step.author });
    } finally {
      if (this.opts.rm !== false || this.opts.forceRm) this.remove(containerId);
    }
  }

  /** Prints the removal and starts it; settle() waits for it. */
  private remove(containerId: string): void {
    this.deps.out.stream(messages.removingIntermediate(containerId));
    this.removals.push(this.deps.engine.removeContainer(containerId).catch((e) => {
      log.warn('build', 'could not remove an intermediate container', { id: containerId, error: String(e) });
    }));
  }

  private async workdir(step: WorkdirStep, parent: string | undefined): Promise<string> {
    const { engine } = this.deps;
    const meta = { config: step.config, createdBy: step.createdBy, author: step.author };
    return engine.withRootfs(parent, async (root) => {
      const real = await resolveInRoot(root, step.path).catch(() => undefined);
      const exists = real !== undefined && (await stat(real).then((s) => s.isDirectory(), () => false));
      if (exists) return engine.commitConfig(parent, meta);
      const layer = copyLayer({ targets: [], inline: [], dest: step.path, parentRoot: root, dirs: [step.path] });
      return engine.addLayer(parent, layer, meta, true);
    });
  }

  private async copy(step: CopyStep, parent: string | undefined): Promise<string> {
    const { engine, context } = this.deps;
    if (step.urls.length) throw new InvalidArgument(`ADD from a URL is not supported here (no network): ${step.urls[0]}`);
    const cmd = step.add ? 'ADD' : 'COPY';
    const fromId = step.from === undefined ? undefined
      : 'stage' in step.from ? this.stageResult(step.from.stage) : this.images.get(step.from.image)?.id;
    if (step.from !== undefined && fromId === undefined && !('stage' in step.from)) throw new NotFound(`No such image: ${(step.from as { image: string }).image}`);
    // What the history text and cache key are made of: per-source sums from
    // the context (Docker's), or for --from a digest of the image and paths.
    type Sums = { srcs: CopySource[]; digest: string; sums?: string[] };
    const withSources = <T>(fn: (s: Sums) => Promise<T>): Promise<T> => {
      if (step.from === undefined) {
        return (async () => {
          const srcs = step.sources.length ? await context.resolve(step.sources, step.dest, cmd, step.inline.length) : [];
          const [sums, digest] = await Promise.all([Promise.all(srcs.map((s) => context.digest(s))), context.sourcesDigest(srcs)]);
          return fn({ srcs, digest, sums });
        })();
      }
      return engine.withRootfs(fromId, async (root) => {
        const srcs = step.sources.length ? await resolveSources(root, step.sources, { cmd, dest: step.dest, others: step.inline.length }) : [];
        return fn({ srcs, digest: `${fromId}:${srcs.map((s) => s.rel).join(',')}` });
      });
    };
    return withSources(async ({ srcs, digest, sums }) => {
      const createdBy = sums
        ? copyCreatedBy(step, srcs.map((s, i) => ({ isDir: s.isDir, sum: sums[i] })))
        : copyCreatedBy(step, srcs, digest.replace(/^sha256:/, ''));
      const key = stepCacheKey(parent ?? '', { ...step, createdBy }, { sourcesDigest: digest, fromImage: fromId });
      const hit = await this.cached(key, parent, createdBy, step.config);
      if (hit) return hit;
      const meta = { config: step.config, createdBy, author: step.author };
      // Only now are the bytes needed: a small context waits in memory until here.
      if (step.from === undefined && srcs.length) await context.materialize();
      const id = await engine.withRootfs(parent, async (root) => {
        const owner = step.chown ? await resolveChown(step.chown, root, (p) => readFile(p, 'utf8')) : undefined;
        const layer = copyLayer({
          targets: copyTargets(srcs, step.dest), inline: step.inline, dest: step.dest, parentRoot: root, owner,
          mode: step.chmod ? parseInt(step.chmod, 8) : undefined, unpackArchives: step.add && step.from === undefined,
        });
        // ADD may unpack an archive holding whiteouts: only plain copies take the one-pass path.
        return engine.addLayer(parent, layer, meta, !step.add);
      });
      await this.deps.cache.set(key, id);
      return id;
    });
  }
}
