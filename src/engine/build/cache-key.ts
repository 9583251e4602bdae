/**
 * Build cache keys. A step's result can be reused when the image it starts
 * from, the instruction after expansion (with the config it produces), the
 * build args a RUN sees, and for COPY/ADD the checksums of the sources all
 * match. The key is a sha256 over a canonical JSON of exactly those inputs,
 * so equal inputs give equal keys across daemon restarts.
 *
 *   const digest = await ctx.sourcesDigest(srcs);          // context.ts
 *   const key = stepCacheKey(parentImageId, step, { sourcesDigest: digest });
 *   const hit = cache.get(key);                            // image ID or undefined
 *
 * Build args reach the key only through RUN (and through any instruction that
 * expanded them): changing an unused `--build-arg` invalidates nothing, and a
 * changed one invalidates from the first RUN that can see it, as in Docker.
 */
import { createHash } from 'node:crypto';
import { historySources } from './context/docker-sum.js';
import type { CopyStep, Step } from './steps.js';

/** Bump when the key's inputs change meaning, so old entries stop matching. */
// v2: COPY/ADD sources are summed as Docker sums them (context/docker-sum.ts).
const KEY_VERSION = 'berth-build-cache-v2';

export interface CopyKeyInputs {
  /** sourcesDigest() of the step's resolved sources (context, stage or image). */
  sourcesDigest: string;
  /** For `--from`: the image ID the sources were read from. */
  fromImage?: string;
  /** For ADD of URLs: a digest of what was downloaded (content, or the server's validators). */
  urlsDigest?: string;
}

/** Sorts object keys recursively so equal values serialise equally. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = canonical(x);
    }
    return out;
  }
  return v;
}

/**
 * The cache key of a step applied on top of `parent` (an image ID; `''` for
 * scratch). COPY/ADD steps need `copy`; FROM and global ARG steps have no key.
 */
export function stepCacheKey(parent: string, step: Step, copy?: CopyKeyInputs): string {
  let fields: Record<string, unknown>;
  switch (step.kind) {
    case 'config':
      fields = {};
      break;
    case 'workdir':
      fields = { path: step.path };
      break;
    case 'run':
      // Not step.env: it also holds proxy args, which Docker keeps out of the cache.
      fields = { argv: step.argv, buildArgs: step.buildArgs, files: step.files };
      break;
    case 'copy':
      if (!copy) throw new Error('a COPY/ADD cache key needs the sources digest');
      fields = {
        add: step.add, sources: step.sources, urls: step.urls, inline: step.inline, dest: step.dest, chown: step.chown, chmod: step.chmod,
        sourcesDigest: copy.sourcesDigest, fromImage: copy.fromImage, urlsDigest: copy.urlsDigest,
      };
      break;
    default:
      throw new Error(`a ${step.kind} step has no cache key`);
  }
  const input = canonical({ v: KEY_VERSION, parent, kind: step.kind, createdBy: step.createdBy, config: step.config, author: step.author, ...fields });
  return 'sha256:' + createHash('sha256').update(JSON.stringify(input)).digest('hex');
}

/**
 * History text of a COPY/ADD as the legacy builder writes it:
 * `/bin/sh -c #(nop) COPY file:<sum> in /dst ` (`dir:` for one directory,
 * `multi:` for several sources; docker-sum.ts makes the sums as Docker does,
 * so the text equals Docker's for the same context). `--chown` comes right
 * before the sum with no space between, as Docker prints it. Sources read
 * from a stage or an image have no Docker sums here: their text carries
 * `fallback` (a digest of the image and paths).
 *
 *   copyCreatedBy(step, [{ isDir: false, sum: '00ec…' }])   // '/bin/sh -c #(nop) COPY file:00ec… in /a.txt '
 */
export function copyCreatedBy(step: CopyStep, sources: { isDir: boolean; sum?: string }[], fallback?: string): string {
  const count = sources.length + step.inline.length;
  let what: string;
  if (fallback === undefined && step.inline.length === 0 && sources.every((s) => s.sum !== undefined)) {
    what = historySources(sources as { isDir: boolean; sum: string }[]);
  } else {
    const kind = count > 1 ? 'multi' : sources[0]?.isDir ? 'dir' : 'file';
    what = `${kind}:${fallback ?? ''}`;
  }
  const chown = step.chown !== undefined ? `--chown=${step.chown}` : '';
  return `${step.createdBy} ${chown}${what} in ${step.dest} `;
}
