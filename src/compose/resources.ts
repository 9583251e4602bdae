import type { Project } from './model.js';
import type { ComposeEngine } from './engine.js';
import type { Progress } from './progress.js';
import { imageName, networkCreateBody, volumeCreateBody } from './container-spec.js';
import { NotFound } from '../common/errors.js';

/**
 * What containers need before they are created: the project's networks and
 * named volumes (external ones must already exist) and the services' images
 * (built from `build`, else pulled).
 *
 *   await ensureNetworks(engine, project, progress, ['default']);
 */
export async function ensureNetworks(engine: ComposeEngine, project: Project, progress: Progress, keys: string[]): Promise<void> {
  for (const key of keys) {
    const n = project.networks[key];
    const found = (await engine.listNetworks({ name: [n.name] })).find((x) => x.Name === n.name);
    if (found) continue;
    if (n.external) throw new NotFound(`network ${n.name} declared as external, but could not be found`);
    await engine.createNetwork(networkCreateBody(project, key));
    progress.done('Network', n.name, 'Created', { driver: n.driver });
  }
}

export async function ensureVolumes(engine: ComposeEngine, project: Project, progress: Progress, keys: string[]): Promise<void> {
  for (const key of keys) {
    const v = project.volumes[key];
    const found = (await engine.listVolumes({ name: [v.name] })).find((x) => x.Name === v.name);
    if (found) continue;
    if (v.external) throw new NotFound(`external volume "${v.name}" not found`);
    await engine.createVolume(volumeCreateBody(project, key));
    progress.done('Volume', v.name, 'Created', { driver: v.driver });
  }
}

/**
 * Builds what must be built and pulls what is missing, before any container
 * is created; resolves with each service's image ID. Lookups run in
 * parallel, builds and pulls one at a time (their output is interleaved otherwise).
 */
export async function ensureImages(engine: ComposeEngine, project: Project, progress: Progress, services: string[],
  opts: { build?: boolean; noBuild?: boolean }, log: (text: string) => void): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  // One lookup per image, however many services share it.
  const lookups = new Map<string, ReturnType<ComposeEngine['inspectImage']>>();
  for (const name of services) {
    const ref = imageName(project, project.services[name]);
    if (!lookups.has(ref)) lookups.set(ref, engine.inspectImage(ref));
  }
  const found = await Promise.all(services.map((name) => lookups.get(imageName(project, project.services[name]))!));
  for (const [i, name] of services.entries()) {
    const s = project.services[name];
    const ref = imageName(project, s);
    if (s.build && !opts.noBuild && (opts.build || !found[i])) {
      await buildImages(engine, project, progress, [name], {}, log);
    } else if (found[i]) {
      ids[name] = found[i]!.Id;
      continue;
    } else if (s.image) {
      await engine.pullImage(ref);
      progress.done('Image', ref, 'Pulled');
    } else {
      throw new NotFound(`image ${ref} for service ${name} not found: build it first (--no-build was given)`);
    }
    const img = await engine.inspectImage(ref);
    if (img) ids[name] = img.Id;
  }
  return ids;
}

export async function buildImages(engine: ComposeEngine, project: Project, progress: Progress, services: string[],
  opts: { noCache?: boolean; pull?: boolean }, log: (text: string) => void): Promise<void> {
  for (const name of services) {
    const s = project.services[name];
    if (!s.build) continue;
    const tag = imageName(project, s);
    const args = Object.fromEntries(Object.entries(s.build.args).map(([k, v]) => [k, v ?? ''])) as Record<string, string>;
    await engine.buildImage({ context: s.build.context, dockerfile: s.build.dockerfile, tag, args, target: s.build.target,
      labels: s.build.labels, noCache: opts.noCache, pull: opts.pull }, log);
    progress.done('Image', tag, 'Built');
  }
}

