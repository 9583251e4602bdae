/**
 * The distribution API endpoints, one function per route. Each gets the parsed
 * request and writes the answer; errors are thrown as RegistryError and
 * written by the server in the spec's error body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isDigest, MediaType } from '../engine/distribution/oci.js';
import type { BlobStore } from './blob-store.js';
import { RegistryError } from './errors.js';
import { sendFile } from './send-file.js';
import { repoNameRe } from './layout.js';
import type { ManifestStore } from './manifest-store.js';

export interface Req {
  req: IncomingMessage;
  res: ServerResponse;
  name: string;
  /** The route's trailing parameter: a reference, digest or upload id. */
  ref: string;
  query: URLSearchParams;
}

export class Handlers {
  constructor(private readonly blobs: BlobStore, private readonly manifests: ManifestStore) {}

  async getManifest({ res, req, name, ref }: Req): Promise<void> {
    const m = await this.manifests.get(name, ref);
    res.writeHead(200, {
      'Content-Type': m.mediaType,
      'Content-Length': m.bytes.length,
      'Docker-Content-Digest': m.digest,
      ETag: `"${m.digest}"`,
    });
    res.end(req.method === 'HEAD' ? undefined : m.bytes);
  }

  async putManifest({ req, res, name, ref }: Req): Promise<void> {
    const body = await readLimited(req, (4 << 20) + 1);
    const { digest, subject } = await this.manifests.put(name, ref, body, req.headers['content-type']);
    const headers: Record<string, string | number> = {
      Location: `/v2/${name}/manifests/${digest}`,
      'Docker-Content-Digest': digest,
      'Content-Length': 0,
    };
    if (subject) headers['OCI-Subject'] = subject;
    res.writeHead(201, headers).end();
  }

  async deleteManifest({ res, name, ref }: Req): Promise<void> {
    await this.manifests.delete(name, ref);
    res.writeHead(202, { 'Content-Length': 0 }).end();
  }

  async getBlob({ req, res, name, ref }: Req): Promise<void> {
    const digest = checkDigest(ref);
    const size = await this.blobs.statInRepo(name, digest);
    if (size === undefined) throw new RegistryError('BLOB_UNKNOWN', { digest });
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/octet-stream',
      'Docker-Content-Digest': digest,
      ETag: `"${digest}"`,
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'max-age=31536000',
    };
    let range: { start: number; end: number } | undefined;
    if (req.headers.range !== undefined) {
      range = parseRange(req.headers.range, size);
      if (!range) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}`, 'Content-Length': 0 }).end();
        return;
      }
    }
    if (range) {
      headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
      headers['Content-Length'] = range.end - range.start + 1;
    } else {
      headers['Content-Length'] = size;
    }
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    await sendFile(this.blobs.path(digest), res, range?.start ?? 0, range?.end ?? size - 1);
  }

  async deleteBlob({ res, name, ref }: Req): Promise<void> {
    const digest = checkDigest(ref);
    if (!(await this.blobs.unlink(name, digest))) throw new RegistryError('BLOB_UNKNOWN', { digest });
    res.writeHead(202, { 'Content-Length': 0 }).end();
  }

  /** POST …/blobs/uploads/: mount, monolithic upload (`?digest=`), or start a session. */
  async startUpload({ req, res, name, query }: Req): Promise<void> {
    const mount = query.get('mount');
    const from = query.get('from');
    if (mount && isDigest(mount) && from && repoNameRe.test(from)) {
      if ((await this.blobs.statInRepo(from, mount)) !== undefined) {
        await this.blobs.link(name, mount);
        res.writeHead(201, { Location: `/v2/${name}/blobs/${mount}`, 'Docker-Content-Digest': mount, 'Content-Length': 0 }).end();
        return;
      }
    }
    const uuid = await this.blobs.startUpload(name);
    const digest = query.get('digest');
    if (digest !== null) {
      await this.finish(name, uuid, digest, req, res);
      return;
    }
    req.resume();
    res.writeHead(202, uploadHeaders(name, uuid, 0)).end();
  }

  async patchUpload({ req, res, name, ref }: Req): Promise<void> {
    let start: number | undefined;
    const cr = req.headers['content-range'];
    if (cr !== undefined) {
      const m = /^(?:bytes )?(\d+)-(\d+)$/.exec(cr);
      if (!m) throw new RegistryError('RANGE_INVALID', { 'content-range': cr });
      start = Number(m[1]);
      const len = req.headers['content-length'];
      if (len !== undefined && Number(len) !== Number(m[2]) - start + 1) {
        throw new RegistryError('SIZE_INVALID', { 'content-range': cr, 'content-length': len });
      }
    }
    const size = await this.blobs.append(name, ref, req, start);
    res.writeHead(202, uploadHeaders(name, ref, size)).end();
  }

  async putUpload({ req, res, name, ref, query }: Req): Promise<void> {
    await this.finish(name, ref, query.get('digest'), req, res);
  }

  async getUpload({ res, name, ref }: Req): Promise<void> {
    const size = await this.blobs.uploadSize(name, ref);
    res.writeHead(204, uploadHeaders(name, ref, size)).end();
  }

  async cancelUpload({ res, name, ref }: Req): Promise<void> {
    await this.blobs.cancel(name, ref);
    res.writeHead(204).end();
  }

  async tagsList({ res, name, query }: Req): Promise<void> {
    const tags = await this.manifests.tags(name);
    const page = paginate(tags, query, `/v2/${name}/tags/list`);
    writeJson(res, { name, tags: page.items }, page.link);
  }

  async catalog({ res, query }: Req): Promise<void> {
    const repos = await this.manifests.repositories();
    const page = paginate(repos, query, '/v2/_catalog');
    writeJson(res, { repositories: page.items }, page.link);
  }

  async referrers({ res, name, ref, query }: Req): Promise<void> {
    const digest = checkDigest(ref);
    const artifactType = query.get('artifactType') ?? undefined;
    const manifests = await this.manifests.referrers(name, digest, artifactType);
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
    const headers: Record<string, string | number> = { 'Content-Type': MediaType.ociIndex, 'Content-Length': body.length };
    if (artifactType) headers['OCI-Filters-Applied'] = 'artifactType';
    res.writeHead(200, headers).end(body);
  }

  private async finish(name: string, uuid: string, digest: string | null, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!digest || !isDigest(digest)) {
      await this.blobs.cancel(name, uuid).catch(() => {});
      throw new RegistryError('DIGEST_INVALID', { digest }, 'digest missing or invalid');
    }
    await this.blobs.append(name, uuid, req);
    try {
      await this.blobs.commit(name, uuid, digest);
    } catch (err) {
      // A wrong digest ends the session: nothing of it may become visible.
      if (err instanceof RegistryError && err.code === 'DIGEST_INVALID') await this.blobs.cancel(name, uuid).catch(() => {});
      throw err;
    }
    res.writeHead(201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': 0 }).end();
  }
}

function uploadHeaders(name: string, uuid: string, size: number): Record<string, string | number> {
  return {
    Location: `/v2/${name}/blobs/uploads/${uuid}`,
    Range: `0-${Math.max(size - 1, 0)}`,
    'Docker-Upload-UUID': uuid,
    'Content-Length': 0,
  };
}

function checkDigest(ref: string): string {
  if (!isDigest(ref)) throw new RegistryError('DIGEST_INVALID', { digest: ref }, 'invalid digest');
  return ref;
}

/** One `bytes=` range, resolved against the size; undefined if unsatisfiable or multi-range. */
export function parseRange(header: string, size: number): { start: number; end: number } | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return undefined;
    start = Math.max(size - suffix, 0);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return undefined;
  return { start, end };
}

function paginate(all: string[], query: URLSearchParams, base: string): { items: string[]; link?: string } {
  const last = query.get('last');
  const nRaw = query.get('n');
  let items = last ? all.filter((x) => x > last) : all;
  if (nRaw === null || nRaw === '') return { items };
  if (!/^\d+$/.test(nRaw)) throw new RegistryError('PAGINATION_NUMBER_INVALID', { n: nRaw });
  const n = Number(nRaw);
  if (items.length <= n) return { items };
  items = items.slice(0, n);
  if (n === 0) return { items };
  const next = new URLSearchParams({ last: items[items.length - 1], n: String(n) });
  return { items, link: `<${base}?${next}>; rel="next"` };
}

function writeJson(res: ServerResponse, value: unknown, link?: string): void {
  const body = Buffer.from(JSON.stringify(value));
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': body.length };
  if (link) headers.Link = link;
  res.writeHead(200, headers).end(body);
}

async function readLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new RegistryError('MANIFEST_INVALID', undefined, 'manifest too big');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
