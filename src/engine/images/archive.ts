import * as path from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { BerthError, InvalidArgument } from '../../common/errors.js';
import { decompressStream, detectCompression } from '../layers/compression.js';
import { cleanMemberPath } from '../layers/tar-check.js';
import { familiar, familiarName, parseReference, referenceString, withDefaultTag, type Reference } from './reference.js';
import type { ImageService } from './service.js';
import { mediaTypes, type ImageRecord } from './types.js';

const epoch = new Date(0);

/**
 * `docker save`: one tar holding the images as Docker 25+ writes them, both a
 * docker-archive (`manifest.json`, `repositories`) and an OCI image layout
 * (`oci-layout`, `index.json`, `blobs/sha256/…`). Blobs go out exactly as
 * stored, so load after save gives the same IDs and digests. Refs by name save
 * that tag; refs by ID save the image untagged.
 *
 *   images.save(['busybox']).pipe(fs.createWriteStream('busybox.tar'))
 */
export function saveImages(svc: ImageService, refs: string[]): Readable {
  if (refs.length === 0) throw new InvalidArgument('no images specified');
  const picked = new Map<string, { rec: ImageRecord; tags: Reference[] }>();
  for (const ref of refs) {
    const rec = svc.resolve(ref); // throws NotFound before any byte is sent
    const entry = picked.get(rec.id) ?? { rec, tags: [] };
    picked.set(rec.id, entry);
    if (!/^(sha256:)?[a-f0-9]{1,64}$/.test(ref) || !rec.id.startsWith(ref.startsWith('sha256:') ? ref : `sha256:${ref}`)) {
      const r = withDefaultTag(parseReference(ref));
      if (r.tag && !entry.tags.some((t) => referenceString(t) === referenceString(r))) entry.tags.push({ ...r, digest: undefined });
    }
  }
  const pack = tar.pack();
  const out = new PassThrough();
  (pack as unknown as Readable).pipe(out);
  const file = (name: string, body: Buffer | string) => new Promise<void>((resolve, reject) => {
    pack.entry({ name, mode: 0o644, mtime: epoch, size: Buffer.byteLength(body) }, Buffer.from(body), (err) => (err ? reject(err) : resolve()));
  });
  const blob = async (digest: string, written: Set<string>) => {
    if (written.has(digest)) return;
    written.add(digest);
    const { size } = await svc.content.info(digest);
    const src = await svc.content.read(digest);
    await new Promise<void>((resolve, reject) => {
      const w = pack.entry({ name: `blobs/sha256/${digest.slice(7)}`, mode: 0o644, mtime: epoch, size }, (err) => (err ? reject(err) : resolve()));
      src.on('error', reject);
      src.pipe(w as any);
    });
  };
  (async () => {
    const written = new Set<string>();
    const manifestJson: unknown[] = [];
    const index: unknown[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    await pack.entry({ name: 'blobs/', type: 'directory', mode: 0o755, mtime: epoch });
    await pack.entry({ name: 'blobs/sha256/', type: 'directory', mode: 0o755, mtime: epoch });
    for (const { rec, tags } of picked.values()) {
      await blob(rec.id, written);
      for (const l of rec.layers) await blob(l.digest, written);
      await blob(rec.manifestDigest, written);
      const { size } = await svc.content.info(rec.manifestDigest);
      const desc = { mediaType: mediaTypes.ociManifest, digest: rec.manifestDigest, size };
      if (tags.length === 0) index.push(desc);
      for (const t of tags) {
        index.push({ ...desc, annotations: { 'io.containerd.image.name': referenceString(t), 'org.opencontainers.image.ref.name': t.tag } });
        const top = rec.layers[rec.layers.length - 1];
        if (top) (repositories[familiarName(t)] ??= {})[t.tag!] = top.digest.slice(7);
      }
      manifestJson.push({
        Config: `blobs/sha256/${rec.id.slice(7)}`,
        RepoTags: tags.length ? tags.map((t) => familiar(t)) : null,
        Layers: rec.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
      });
    }
    await file('index.json', JSON.stringify({ schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests: index }));
    await file('manifest.json', JSON.stringify(manifestJson));
    await file('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    if (Object.keys(repositories).length) await file('repositories', JSON.stringify(repositories));
    pack.finalize();
  })().catch((err) => { pack.destroy(err); out.destroy(err); });
  return out;
}

/** A member of the archive being loaded: either small bytes or a blob already stored. */
interface Member { digest: string; size: number; created: boolean; bytes?: Buffer }

const keepInMemory = 4 << 20;

/**
 * `docker load`: reads a docker-archive or OCI image layout tar. Every regular
 * member goes straight into the content store (nothing is written by path, so
 * a hostile archive cannot reach outside the store); then each image is
 * created from the stored blobs. Returns the lines `docker load` prints.
 */
export async function loadImages(svc: ImageService, input: Readable): Promise<string[]> {
  const members = new Map<string, Member>();
  const aliases = new Map<string, string>();
  const ex = tar.extract();
  try {
    const done = (async () => {
      for await (const entry of ex) {
        const h = entry.header;
        const name = cleanMemberPath(h.name);
        if (h.type === 'file' || h.type === 'contiguous-file') {
          const chunks: Buffer[] = [];
          const small = (h.size ?? 0) <= keepInMemory;
          const tee = new Transform({ transform(c: Buffer, _e, cb) { if (small) chunks.push(c); cb(null, c); } });
          (entry as unknown as Readable).pipe(tee);
          const info = await svc.content.write(tee);
          members.set(name, { ...info, bytes: small ? Buffer.concat(chunks) : undefined });
        } else if (h.type === 'symlink' || h.type === 'link') {
          // Legacy archives link duplicate layers: `<id>/layer.tar -> ../<other>/layer.tar`.
          const base = h.type === 'symlink' ? path.posix.dirname(name) : '.';
          const target = path.posix.normalize(path.posix.join(base, h.linkname ?? ''));
          if (target.startsWith('..') || path.posix.isAbsolute(h.linkname ?? '')) throw new InvalidArgument(`invalid archive: link ${h.name} points outside the archive`);
          aliases.set(name, cleanMemberPath(target));
          entry.resume();
        } else {
          entry.resume();
        }
      }
    })();
    // `docker save | gzip | docker load` works with Docker: accept compressed archives too.
    const plain = decompressStream(input);
    plain.on('error', (err) => ex.destroy(err));
    plain.pipe(ex);
    await done;
  } catch (err) {
    await dropUnused(svc, members);
    if (err instanceof BerthError) throw err;
    throw new InvalidArgument(`invalid tar archive: ${(err as Error).message}`);
  }
  const get = (p: string): Member => {
    let name = cleanMemberPath(p);
    for (let i = 0; i < 16 && aliases.has(name); i++) name = aliases.get(name)!;
    const m = members.get(name);
    if (!m) throw new InvalidArgument(`invalid archive: ${p} is missing`);
    return m;
  };
  const json = async (m: Member, what: string): Promise<any> => {
    const bytes = m.bytes ?? (await svc.content.readBuffer(m.digest));
    try { return JSON.parse(bytes.toString('utf8')); } catch { throw new InvalidArgument(`invalid archive: ${what} is not valid JSON`); }
  };
  const lines: string[] = [];
  try {
    if (members.has('manifest.json')) {
      const manifest = await json(get('manifest.json'), 'manifest.json');
      if (!Array.isArray(manifest)) throw new InvalidArgument('invalid archive: manifest.json is not a list');
      for (const item of manifest) {
        if (typeof item?.Config !== 'string' || !Array.isArray(item.Layers)) throw new InvalidArgument('invalid archive: bad entry in manifest.json');
        const config = get(item.Config);
        const layers = item.Layers.map((l: string) => layerOf(svc, get(String(l))));
        const names: string[] = Array.isArray(item.RepoTags) ? item.RepoTags.map(String) : [];
        const refs = names.map((n) => withDefaultTag(parseReference(n)));
        const replaced: Array<{ ref: Reference; previous: string }> = [];
        const rec = await svc.createImage(config.digest, await Promise.all(layers), { names: refs, replaced });
        report(rec.id, refs, replaced, lines);
      }
    } else if (members.has('index.json')) {
      const index = await json(get('index.json'), 'index.json');
      for (const desc of index?.manifests ?? []) {
        const { manifest, name } = await resolveManifest(desc, (d) => json(get(blobPath(d)), d));
        const config = get(blobPath(manifest.config?.digest));
        if (config.digest !== manifest.config.digest) throw new InvalidArgument(`invalid archive: config digest mismatch for ${manifest.config.digest}`);
        const layers = (manifest.layers ?? []).map((l: any) => {
          const m = get(blobPath(l.digest));
          if (m.digest !== l.digest) throw new InvalidArgument(`invalid archive: layer digest mismatch for ${l.digest}`);
          return { digest: m.digest, mediaType: String(l.mediaType ?? mediaTypes.ociLayer) };
        });
        const refs = name ? [withDefaultTag(parseReference(name))] : [];
        const replaced: Array<{ ref: Reference; previous: string }> = [];
        const rec = await svc.createImage(config.digest, layers, { names: refs, replaced });
        report(rec.id, refs, replaced, lines);
      }
    } else {
      throw new InvalidArgument('invalid archive: no manifest.json or index.json (not a docker save or OCI image layout)');
    }
  } finally {
    await dropUnused(svc, members);
  }
  return lines;
}

function blobPath(digest: unknown): string {
  if (typeof digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(digest)) throw new InvalidArgument(`invalid archive: bad digest ${JSON.stringify(digest)}`);
  return `blobs/sha256/${digest.slice(7)}`;
}

async function layerOf(svc: ImageService, m: Member): Promise<{ digest: string; mediaType: string }> {
  const head = Buffer.alloc(8);
  const fh = await (await import('node:fs/promises')).open(svc.content.path(m.digest), 'r');
  try { await fh.read(head, 0, 8, 0); } finally { await fh.close(); }
  const kind = detectCompression(head);
  const mediaType = kind === 'gzip' ? mediaTypes.ociLayerGzip : kind === 'zstd' ? mediaTypes.ociLayerZstd : mediaTypes.ociLayer;
  return { digest: m.digest, mediaType };
}

/** Follows an index to one manifest (nested indexes: the host platform or the first). */
async function resolveManifest(desc: any, read: (digest: string) => Promise<any>): Promise<{ manifest: any; name?: string }> {
  const ann = desc?.annotations ?? {};
  let name: string | undefined = ann['io.containerd.image.name'];
  const refName: string | undefined = ann['org.opencontainers.image.ref.name'];
  if (!name && refName) {
    try { if (parseReference(refName).path.includes('/')) name = refName; } catch { /* just a tag */ }
    if (name && !/[:@]/.test(name.split('/').pop()!)) name = undefined;
  }
  let doc = await read(desc.digest);
  for (let depth = 0; Array.isArray(doc?.manifests) && depth < 4; depth++) {
    const pick = doc.manifests.find((m: any) => m.platform?.os === 'linux' && m.platform?.architecture === archName()) ?? doc.manifests[0];
    if (!pick) throw new InvalidArgument('invalid archive: empty image index');
    doc = await read(pick.digest);
  }
  if (!doc?.config) throw new InvalidArgument(`invalid archive: ${desc.digest} is not an image manifest`);
  return { manifest: doc, name };
}

function archName(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch;
}

/** The lines `docker load` prints for one image. */
function report(id: string, refs: Reference[], replaced: Array<{ ref: Reference; previous: string }>, lines: string[]): void {
  if (refs.length === 0) { lines.push(`Loaded image ID: ${id}`); return; }
  for (const r of refs) {
    const moved = replaced.find((x) => referenceString(x.ref) === referenceString(r));
    if (moved) lines.push(`The image ${familiar(r)} already exists, renaming the old one with ID ${moved.previous} to empty string`);
    lines.push(`Loaded image: ${familiar(r)}`);
  }
}

/** Blobs this load added that no image ended up using (legacy `json` files, a failed image's layers). */
async function dropUnused(svc: ImageService, members: Map<string, Member>): Promise<void> {
  const used = new Set<string>();
  for (const r of svc.all()) {
    used.add(r.id).add(r.manifestDigest);
    for (const l of r.layers) used.add(l.digest);
  }
  for (const m of members.values()) if (m.created && !used.has(m.digest)) await svc.content.delete(m.digest);
}
