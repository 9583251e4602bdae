/**
 * Manifests, tags and referrers of each repository. Manifest bytes live in the
 * blob store under their digest; a repository holds a revision link per
 * manifest, a file per tag, and a referrers link per manifest with a subject.
 *
 *   const digest = await manifests.put('app', 'v1', bytes, 'application/vnd.oci.image.manifest.v1+json')
 *   const m = await manifests.get('app', 'v1')   // { digest, mediaType, bytes }
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../common/atomic-file.js';
import {
  isDigest, isIndexType, manifestMediaType, manifestMediaTypes, sha256Digest, type Descriptor,
} from '../engine/distribution/oci.js';
import { exists, type BlobStore } from './blob-store.js';
import { RegistryError } from './errors.js';
import { tagRe, type Layout } from './layout.js';

export interface StoredManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

const maxManifestBytes = 4 << 20;

export class ManifestStore {
  constructor(private readonly layout: Layout, private readonly blobs: BlobStore) {}

  /** Resolves a tag or digest to the digest the repository holds, or throws MANIFEST_UNKNOWN. */
  async resolve(repo: string, ref: string): Promise<string> {
    if (isDigest(ref)) {
      if (await exists(this.layout.revision(repo, ref))) return ref;
      throw new RegistryError('MANIFEST_UNKNOWN', { digest: ref });
    }
    if (!tagRe.test(ref)) throw new RegistryError('MANIFEST_UNKNOWN', { tag: ref });
    try {
      return (await fs.readFile(this.layout.tag(repo, ref), 'utf8')).trim();
    } catch {
      throw new RegistryError('MANIFEST_UNKNOWN', { tag: ref });
    }
  }

  async get(repo: string, ref: string): Promise<StoredManifest> {
    const digest = await this.resolve(repo, ref);
    const mediaType = (await fs.readFile(this.layout.revision(repo, digest), 'utf8')).trim();
    return { digest, mediaType, bytes: await this.blobs.read(digest) };
  }

  /**
   * Stores a manifest and points `ref` at it when `ref` is a tag. Every blob an
   * image manifest names, and every manifest an index names, must already be
   * in the repository. Returns the digest and the subject, if any.
   */
  async put(repo: string, ref: string, bytes: Buffer, contentType: string | undefined): Promise<{ digest: string; subject?: string }> {
    if (bytes.length > maxManifestBytes) throw new RegistryError('MANIFEST_INVALID', undefined, 'manifest too big');
    let digest = sha256Digest(bytes);
    if (isDigest(ref)) {
      const alg = ref.split(':')[0];
      if (alg !== 'sha256') digest = `${alg}:${createHash(alg).update(bytes).digest('hex')}`;
      if (digest !== ref) throw new RegistryError('DIGEST_INVALID', { expected: ref, actual: digest });
    } else if (!tagRe.test(ref)) {
      throw new RegistryError('MANIFEST_INVALID', { tag: ref }, 'invalid tag');
    }
    let parsed: any;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new RegistryError('MANIFEST_INVALID', undefined, 'manifest invalid: not JSON');
    }
    const declared = manifestMediaType(parsed);
    const mediaType = declared ?? contentType?.split(';')[0].trim();
    if (!mediaType || !manifestMediaTypes.includes(mediaType) || parsed?.schemaVersion !== 2) {
      throw new RegistryError('MANIFEST_INVALID', { mediaType }, 'manifest invalid: unsupported schema or media type');
    }
    if (declared && contentType && !contentType.startsWith(declared) && manifestMediaTypes.includes(contentType.split(';')[0])) {
      throw new RegistryError('MANIFEST_INVALID', { declared, contentType }, 'manifest invalid: media type does not match Content-Type');
    }
    await this.checkReferences(repo, parsed, mediaType);

    await this.blobs.putBytes(digest, bytes);
    const rev = this.layout.revision(repo, digest);
    await fs.mkdir(path.dirname(rev), { recursive: true });
    await writeFileAtomic(rev, mediaType);
    const subject: string | undefined = isDigest(parsed.subject?.digest) ? parsed.subject.digest : undefined;
    if (subject) {
      const link = this.layout.referrer(repo, subject, digest);
      await fs.mkdir(path.dirname(link), { recursive: true });
      await fs.writeFile(link, '');
    }
    if (!isDigest(ref)) {
      await fs.mkdir(this.layout.tagsDir(repo), { recursive: true });
      await writeFileAtomic(this.layout.tag(repo, ref), digest);
    }
    return { digest, subject };
  }

  private async checkReferences(repo: string, m: any, mediaType: string): Promise<void> {
    const descs: Descriptor[] = [];
    if (isIndexType(mediaType)) {
      if (!Array.isArray(m.manifests)) throw new RegistryError('MANIFEST_INVALID', undefined, 'manifest invalid: no manifests');
      for (const d of m.manifests) {
        checkDescriptor(d);
        if (!(await exists(this.layout.revision(repo, d.digest)))) {
          throw new RegistryError('MANIFEST_BLOB_UNKNOWN', { digest: d.digest }, 'manifest unknown');
        }
      }
      return;
    }
    if (!m.config || !Array.isArray(m.layers)) throw new RegistryError('MANIFEST_INVALID', undefined, 'manifest invalid: config and layers required');
    descs.push(m.config, ...m.layers);
    for (const d of descs) {
      checkDescriptor(d);
      // Foreign layers (with URLs) are fetched from elsewhere by clients.
      if (d.urls?.length) continue;
      const size = await this.blobs.statInRepo(repo, d.digest);
      if (size === undefined) throw new RegistryError('MANIFEST_BLOB_UNKNOWN', { digest: d.digest });
      if (size !== d.size) throw new RegistryError('SIZE_INVALID', { digest: d.digest, size: d.size, actual: size });
    }
  }

  /** Deletes a manifest by digest (and the tags naming it) or, for a tag, only the tag. */
  async delete(repo: string, ref: string): Promise<void> {
    if (!isDigest(ref)) {
      await this.resolve(repo, ref);
      await fs.unlink(this.layout.tag(repo, ref));
      return;
    }
    const m = await this.get(repo, ref);
    for (const tag of await this.tags(repo)) {
      const file = this.layout.tag(repo, tag);
      if ((await fs.readFile(file, 'utf8').catch(() => '')).trim() === ref) await fs.rm(file, { force: true });
    }
    try {
      const subject = JSON.parse(m.bytes.toString('utf8'))?.subject?.digest;
      if (isDigest(subject)) await fs.rm(this.layout.referrer(repo, subject, ref), { force: true });
    } catch { /* stored manifests were parsed on put */ }
    await fs.rm(this.layout.revision(repo, ref), { force: true });
  }

  /** Sorted tags; throws NAME_UNKNOWN for a repository that does not exist. */
  async tags(repo: string): Promise<string[]> {
    if (!(await exists(this.layout.repo(repo)))) throw new RegistryError('NAME_UNKNOWN', { name: repo });
    const names = await fs.readdir(this.layout.tagsDir(repo)).catch(() => [] as string[]);
    return names.filter((n) => tagRe.test(n)).sort();
  }

  /** Digests of every manifest revision the repository holds. */
  async revisions(repo: string): Promise<string[]> {
    const out: string[] = [];
    for (const alg of await fs.readdir(this.layout.revisionsDir(repo)).catch(() => [] as string[])) {
      for (const hex of await fs.readdir(path.join(this.layout.revisionsDir(repo), alg))) {
        if (isDigest(`${alg}:${hex}`)) out.push(`${alg}:${hex}`);
      }
    }
    return out;
  }

  /** Descriptors of the manifests whose subject is `subject`, optionally filtered. */
  async referrers(repo: string, subject: string, artifactType?: string): Promise<Descriptor[]> {
    const dir = this.layout.referrersDir(repo, subject);
    const out: Descriptor[] = [];
    for (const alg of await fs.readdir(dir).catch(() => [] as string[])) {
      for (const hex of await fs.readdir(path.join(dir, alg))) {
        const digest = `${alg}:${hex}`;
        let m: StoredManifest;
        try { m = await this.get(repo, digest); } catch { continue; }
        const parsed = JSON.parse(m.bytes.toString('utf8'));
        const d: Descriptor = { mediaType: m.mediaType, digest, size: m.bytes.length };
        const at = parsed.artifactType ?? parsed.config?.mediaType;
        if (at) d.artifactType = at;
        if (parsed.annotations) d.annotations = parsed.annotations;
        if (artifactType && d.artifactType !== artifactType) continue;
        out.push(d);
      }
    }
    return out.sort((a, b) => a.digest.localeCompare(b.digest));
  }

  /** Every repository name, sorted: a directory holding `_manifests` or `_layers`. */
  async repositories(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
      if (entries.some((e) => e.name === '_manifests' || e.name === '_layers')) out.push(prefix);
      for (const e of entries) {
        if (e.isDirectory() && !e.name.startsWith('_')) await walk(path.join(dir, e.name), prefix ? `${prefix}/${e.name}` : e.name);
      }
    };
    await walk(this.layout.reposDir, '');
    return out.filter(Boolean).sort();
  }
}

function checkDescriptor(d: any): void {
  if (!d || typeof d.mediaType !== 'string' || !isDigest(d.digest) || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw new RegistryError('MANIFEST_INVALID', { descriptor: d }, 'manifest invalid: bad descriptor');
  }
}
