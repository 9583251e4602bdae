import { mkdir } from 'node:fs/promises';
import { InvalidArgument, errorMessage } from '../../common/errors.js';
import { contextFromTar, type BuildContext } from '../../engine/build/context.js';
import { BuildFailed, type BuildOptions, type BuildOutput } from '../../engine/build/executor.js';
import { parsePlatform } from '../../engine/build/platform.js';
import { parseRepoTag } from '../../engine/images/reference.js';
import type { ApiContext, Router } from '../router.js';

export interface BuildRouteDeps {
  /** Where received contexts are unpacked (removed after each build). */
  tmpRoot: string;
  build(context: BuildContext, opts: BuildOptions, out: BuildOutput): Promise<string>;
}

/**
 * `POST /build`, Docker's classic (non-BuildKit) protocol: the body is the
 * context tar (maybe gzip, or a bare Dockerfile), options are in the query,
 * progress comes back as JSON lines (`{"stream":…}`, `{"aux":{"ID":…}}`,
 * `{"errorDetail":…,"error":…}`). Errors before the build starts (a bad tag,
 * bad JSON in a parameter) are plain HTTP errors; later ones are stream lines
 * with status 200, as Docker sends them.
 */
export function registerBuildRoutes(r: Router, deps: BuildRouteDeps): void {
  r.post('/build', async (c) => {
    const opts = buildOptions(c);
    const quiet = c.flag('q', false);
    await mkdir(deps.tmpRoot, { recursive: true });
    const context = await contextFromTar(c.req, { tmpRoot: deps.tmpRoot });
    c.res.writeHead(200, { 'Content-Type': 'application/json' });
    const line = (v: unknown) => { if (!c.res.destroyed) c.res.write(JSON.stringify(v) + '\r\n'); };
    const out: BuildOutput = {
      stream: (text) => { if (!quiet) line({ stream: text }); },
      aux: (id) => line({ aux: { ID: id } }),
    };
    try {
      const id = await deps.build(context, opts, out);
      if (quiet) line({ stream: `${id}\n` });
    } catch (err) {
      const message = errorMessage(err);
      const code = err instanceof BuildFailed ? err.code : undefined;
      line({ errorDetail: { ...(code !== undefined ? { code } : {}), message }, error: message });
    } finally {
      // The client has everything once the last line is out; removing a big context can take seconds.
      c.res.end();
      await context.close().catch(() => undefined);
    }
  });
}

/** Reads the query the way Docker's daemon does (JSON for maps and lists). */
function buildOptions(c: ApiContext): BuildOptions {
  const tags = c.query.getAll('t').filter(Boolean);
  for (const t of tags) parseRepoTag(t);
  const shm = c.query.get('shmsize');
  if (shm && !/^\d+$/.test(shm)) throw new InvalidArgument(`invalid shmsize: ${shm}`);
  const networkMode = c.query.get('networkmode') || undefined;
  const platform = c.query.get('platform') || undefined;
  if (platform) parsePlatform(platform);
  const cacheFrom = c.jsonQuery<string[]>('cachefrom') ?? [];
  if (!Array.isArray(cacheFrom) || cacheFrom.some((r) => typeof r !== 'string')) throw new InvalidArgument('cachefrom: want a JSON list of image references');
  return {
    tags,
    dockerfile: c.query.get('dockerfile') || 'Dockerfile',
    buildArgs: c.jsonQuery<Record<string, string | null>>('buildargs') ?? {},
    labels: c.jsonQuery<Record<string, string>>('labels') ?? {},
    target: c.query.get('target') || undefined,
    noCache: c.flag('nocache', false),
    pull: c.flag('pull', false),
    rm: c.flag('rm', true),
    forceRm: c.flag('forcerm', false),
    networkMode,
    extraHosts: c.query.getAll('extrahosts').flatMap((h) => h.split(',')).filter(Boolean),
    shmSize: shm ? Number(shm) : undefined,
    platform,
    cacheFrom,
  };
}
