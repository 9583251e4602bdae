/**
 * Pulling an image into the image store: resolve the manifest (picking the
 * platform from an index), fetch the config and the layers not yet here in
 * parallel, each verified against its digest before it enters the content
 * store, then unpack and name the image. Nothing names the image until every
 * layer is in, so an interrupted pull leaves no half image; the blobs it did
 * verify stay in the content store and a retry reuses them.
 *
 *   const r = await pullImage(images, client, parseReference('127.0.0.1:5000/app:v1'), { progress: send })
 *   // r.digest: what `Digest:` prints; r.updated: false when the tag already named this image
 */
import { BerthError, InvalidArgument } from '../../common/errors.js';
import { familiar, referenceString, type Reference } from '../images/reference.js';
import type { ImageService } from '../images/service.js';
import type { LayerSource } from '../images/layer-ingest.js';
import { chainIds, type ImageConfig } from '../images/types.js';
import type { RegistryClient, ResolvedManifest } from './client.js';
import { MediaType, type Descriptor } from './oci.js';
import { LayerProgress, shortDigest, type ProgressSink } from './progress.js';

export interface PullOptions {
  /** `os/arch[/variant]`; default this machine's. */
  platform?: string;
  progress: ProgressSink;
}

export interface PullResult {
  imageId: string;
  /** Digest of what the reference named on the registry (the index for a multi-arch image). */
  digest: string;
  /** False when the reference already named this image here (`Image is up to date`). */
  updated: boolean;
}

const layerTypes = new Set<string>([
  MediaType.dockerLayerGzip, MediaType.ociLayer, MediaType.ociLayerGzip, MediaType.ociLayerZstd,
  'application/vnd.docker.image.rootfs.diff.tar',
]);

/** Pulls one tag or digest. Errors before the first progress message leave nothing written but verified blobs. */
export async function pullImage(images: ImageService, client: RegistryClient, ref: Reference, opts: PullOptions): Promise<PullResult> {
  if (!ref.tag && !ref.digest) ref = { ...ref, tag: 'latest' };
  const resolved = await client.resolveManifest(ref, opts.platform);
  const { repo, manifest } = resolved;
  const topDigest = resolved.index?.digest ?? resolved.digest;
  if (ref.digest && ref.digest !== topDigest && ref.digest !== resolved.digest) throw new BerthError(`manifest digest ${topDigest} does not match ${ref.digest}`);
  for (const l of manifest.layers) {
    if (!layerTypes.has(l.mediaType)) throw new InvalidArgument(`unsupported layer media type ${JSON.stringify(l.mediaType)} in ${familiar(ref)}`);
  }
  opts.progress({ status: `Pulling from ${repo.path}`, id: ref.digest ?? ref.tag });
  // Until the image names them, prune must not take the blobs this pull stores.
  const unlease = images.leases.hold([manifest.config.digest, resolved.digest, ...manifest.layers.map((l) => l.digest)]);
  try {
    return await fetchAndCreate(images, client, ref, resolved, topDigest, opts.progress);
  } finally {
    unlease();
  }
}

/** Fetches the config and the layers not here yet, unpacks them and names the image. */
async function fetchAndCreate(images: ImageService, client: RegistryClient, ref: Reference, resolved: ResolvedManifest, topDigest: string, say: ProgressSink): Promise<PullResult> {
  const { repo, manifest } = resolved;
  const before = currentImage(images, ref);
  const configDigest = manifest.config.digest;
  if (!(await images.content.has(configDigest))) {
    await images.content.write(await client.fetchBlob(repo, manifest.config), { digest: configDigest, size: manifest.config.size });
  }
  const config = await readConfig(images, configDigest);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new InvalidArgument(`image config ${configDigest} lists ${diffIds.length} layers but its manifest has ${manifest.layers.length}`);
  }
  const chain = chainIds(diffIds);
  const bars = manifest.layers.map((l) => new LayerProgress(say, shortDigest(l.digest)));
  const have = await Promise.all(manifest.layers.map(async (l, i) => (await images.content.has(l.digest)) && !!images.snapshots.stat(chain[i])));
  // Nothing to do at all: Docker prints no layer lines, only Digest and Status.
  const upToDate = before === configDigest && have.every(Boolean);
  if (!upToDate) manifest.layers.forEach((_l, i) => bars[i].status(have[i] ? 'Already exists' : 'Pulling fs layer'));
  // One pass per layer: the bytes are stored and extracted as they arrive, layers side by side.
  const streamed = new Set<number>();
  const source = async (i: number) => {
    const src = await layerSource(images, client, repo, manifest.layers[i], diffIds[i], have[i], bars[i]);
    if (typeof src !== 'string') streamed.add(i);
    return src;
  };
  const unpacked = images.prepareLayers(diffIds, source, (i, phase) => {
    if (have[i]) return;
    if (phase === 'start') {
      if (streamed.has(i)) { bars[i].status('Verifying Checksum'); bars[i].status('Download complete'); }
      bars[i].bytes('Extracting', manifest.layers[i].size, manifest.layers[i].size);
    } else if (phase === 'done') bars[i].status('Pull complete');
  });
  const { release } = await unpacked;
  let rec;
  try {
    await images.content.writeBuffer(resolved.bytes, { digest: resolved.digest });
    const names: Reference[] = [{ domain: ref.domain, path: ref.path, digest: topDigest }];
    if (ref.tag) names.unshift({ domain: ref.domain, path: ref.path, tag: ref.tag });
    rec = await images.createImage(configDigest, manifest.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType })), { names, manifestDigest: resolved.digest });
  } finally {
    release();
  }
  say({ status: `Digest: ${topDigest}` });
  return { imageId: rec.id, digest: topDigest, updated: before !== rec.id };
}

/** Pulls every tag of the repository (`pull -a`), one after the other; true when any changed. */
export async function pullAllTags(images: ImageService, client: RegistryClient, repoRef: Reference, opts: PullOptions): Promise<boolean> {
  const tags = await client.listTags({ domain: repoRef.domain, path: repoRef.path });
  let updated = false;
  for (const tag of tags) {
    const r = await pullImage(images, client, { domain: repoRef.domain, path: repoRef.path, tag }, opts);
    updated ||= r.updated;
  }
  return updated;
}

/**
 * Where layer `layer` comes from: nothing to fetch when it is here already, the
 * stored blob when an interrupted pull verified it (a retry resumes there), or
 * the registry's stream, stored and extracted in one pass by the image service.
 */
async function layerSource(images: ImageService, client: RegistryClient, repo: { domain: string; path: string }, layer: Descriptor, diffId: string, have: boolean, bar: LayerProgress): Promise<LayerSource> {
  if (have) return layer.digest;
  if (await images.content.has(layer.digest)) {
    bar.status('Download complete');
    return layer.digest;
  }
  // The content store checks digest and size before the blob becomes visible.
  return { body: client.blobChunks(repo, layer), digest: layer.digest, size: layer.size, diffId, onBytes: (n) => bar.bytes('Downloading', n, layer.size) };
}

async function readConfig(images: ImageService, digest: string): Promise<ImageConfig> {
  let config: ImageConfig;
  try {
    config = JSON.parse((await images.content.readBuffer(digest)).toString('utf8'));
  } catch {
    throw new InvalidArgument(`image config ${digest} is not JSON`);
  }
  if (!Array.isArray(config?.rootfs?.diff_ids)) throw new InvalidArgument(`image config ${digest} has no rootfs.diff_ids`);
  return config;
}

/** The image the reference names here now, if any. */
function currentImage(images: ImageService, ref: Reference): string | undefined {
  try {
    return images.resolve(referenceString(ref)).id;
  } catch {
    return undefined;
  }
}
