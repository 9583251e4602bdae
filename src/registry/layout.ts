/**
 * Where the registry keeps things under its root. Everything a client can see
 * is reached through a file that appears by one rename, so a server killed at
 * any instant leaves each blob, link and tag either absent or whole:
 *
 *   blobs/sha256/ab/ab12…                       blob bytes (layers, configs, manifests)
 *   uploads/<uuid>/data, uploads/<uuid>/repo    uploads in progress, invisible to readers
 *   repositories/<name>/_layers/sha256/<hex>    blob belongs to the repository (empty file)
 *   repositories/<name>/_manifests/revisions/sha256/<hex>   manifest in the repo (holds its media type)
 *   repositories/<name>/_manifests/tags/<tag>   tag → digest
 *   repositories/<name>/_referrers/sha256/<subject-hex>/sha256/<hex>   manifest <hex> has that subject
 *
 * Repository path components match `[a-z0-9]+…`, so they never collide with
 * the `_`-prefixed directories.
 */
import * as path from 'node:path';
import { parseDigest } from '../engine/distribution/oci.js';

export class Layout {
  constructor(readonly root: string) {}

  get blobsDir(): string { return path.join(this.root, 'blobs'); }
  get uploadsDir(): string { return path.join(this.root, 'uploads'); }
  get reposDir(): string { return path.join(this.root, 'repositories'); }

  blob(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return path.join(this.blobsDir, algorithm, hex.slice(0, 2), hex);
  }
  upload(uuid: string): string { return path.join(this.uploadsDir, uuid); }
  repo(name: string): string { return path.join(this.reposDir, ...name.split('/')); }
  layerLink(name: string, digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return path.join(this.repo(name), '_layers', algorithm, hex);
  }
  revisionsDir(name: string): string { return path.join(this.repo(name), '_manifests', 'revisions'); }
  revision(name: string, digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return path.join(this.revisionsDir(name), algorithm, hex);
  }
  tagsDir(name: string): string { return path.join(this.repo(name), '_manifests', 'tags'); }
  tag(name: string, tag: string): string { return path.join(this.tagsDir(name), tag); }
  referrersDir(name: string, subject: string): string {
    const { algorithm, hex } = parseDigest(subject);
    return path.join(this.repo(name), '_referrers', algorithm, hex);
  }
  referrer(name: string, subject: string, digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return path.join(this.referrersDir(name, subject), algorithm, hex);
  }
}

/** Repository names as the distribution spec allows them. */
export const repoNameRe = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
export const tagRe = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
