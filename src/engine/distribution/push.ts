/**
 * Pushing an image from the image store: its blobs exactly as stored (so the
 * manifest and its digest stay the same), each skipped when the registry has
 * it (`Layer already exists`) or mounted from another repository of the same
 * registry that an image here came from, then the manifest under the tag.
 *
 *   const r = await pushImage(images, client, parseReference('127.0.0.1:5000/app:v1'), { progress: send })
 *   // r: { tag: 'v1', digest: 'sha256:…', size: 528 }
 */
import { Transform } from 'node:stream';
import { NotFound } from '../../common/errors.js';
import { familiarName, parseReference, type Reference } from '../images/reference.js';
import type { ImageService } from '../images/service.js';
import type { ImageRecord } from '../images/types.js';
import type { RegistryClient, Repository } from './client.js';
import { manifestMediaType } from './oci.js';
import { LayerProgress, shortDigest, type ProgressSink } from './progress.js';

export interface PushResult {
  tag: string;
  digest: string;
  size: number;
}

/** Tags of `repo` here, sorted (`push` without a tag pushes them all, as Docker does). */
export function localTags(images: ImageService, repo: Reference): string[] {
  const tags = new Set<string>();
  for (const rec of images.all()) {
    for (const t of images.repoTags(rec.id)) {
      const r = parseReference(t);
      if (r.domain === repo.domain && r.path === repo.path && r.tag) tags.add(r.tag);
    }
  }
  return [...tags].sort();
}

/** Pushes the image `ref` (with a tag) names. */
export async function pushImage(images: ImageService, client: RegistryClient, ref: Reference & { tag: string }, progress: ProgressSink): Promise<PushResult> {
  let rec: ImageRecord;
  try {
    rec = images.resolve(`${familiarName(ref)}:${ref.tag}`);
  } catch {
    throw new NotFound(`An image does not exist locally with the tag: ${familiarName(ref)}`);
  }
  const repo: Repository = { domain: ref.domain, path: ref.path };
  const bytes = await images.content.readBuffer(rec.manifestDigest);
  const mediaType = manifestMediaType(JSON.parse(bytes.toString('utf8')))!;
  const layers = [...rec.layers].reverse(); // Docker lists the top layer first
  const bars = layers.map((l) => new LayerProgress(progress, shortDigest(l.diffId)));
  bars.forEach((b) => b.status('Preparing'));
  const uploads = layers.map(async (l, i) => {
    const from = mountSource(images, rec, l.digest, repo);
    const open = () => {
      let sent = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _e, cb) {
          sent += chunk.length;
          bars[i].bytes('Pushing', sent, l.size);
          cb(null, chunk);
        },
      });
      images.content.read(l.digest).then((s) => { s.on('error', (e) => counter.destroy(e)); s.pipe(counter); }, (e) => counter.destroy(e));
      return counter;
    };
    const result = await client.pushBlob(repo, l, open, from);
    bars[i].status(result === 'exists' ? 'Layer already exists' : result === 'mounted' ? `Mounted from ${from}` : 'Pushed');
  });
  const config = images.content.info(rec.id).then((info) => client.pushBlob(repo, info, () => {
    const t = new Transform({ transform(c, _e, cb) { cb(null, c); } });
    images.content.read(rec.id).then((s) => s.pipe(t), (e) => t.destroy(e));
    return t;
  }));
  const settled = await Promise.allSettled([...uploads, config]);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  const digest = await client.putManifest(repo, ref.tag, bytes, mediaType);
  progress({ status: `${ref.tag}: digest: ${digest} size: ${bytes.length}` });
  progress({ progressDetail: {}, aux: { Tag: ref.tag, Digest: digest, Size: bytes.length } });
  // Docker records the pushed digest as a RepoDigest of the image.
  await images.createImage(rec.id, rec.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType })), { names: [{ ...repo, digest }] });
  return { tag: ref.tag, digest, size: bytes.length };
}

/** Another repository on the same registry an image here with this layer is named after. */
function mountSource(images: ImageService, self: ImageRecord, layerDigest: string, target: Repository): string | undefined {
  const candidates = [self, ...images.all().filter((r) => r.id !== self.id && r.layers.some((l) => l.digest === layerDigest))];
  for (const rec of candidates) {
    for (const name of [...images.repoTags(rec.id), ...images.repoDigests(rec.id)]) {
      const r = parseReference(name);
      if (r.domain === target.domain && r.path !== target.path) return r.path;
    }
  }
  return undefined;
}
