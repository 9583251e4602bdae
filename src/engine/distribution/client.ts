/**
 * RegistryClient speaks the OCI distribution protocol (and Docker Registry v2)
 * to any registry: Docker Hub, GHCR, Quay, ECR, a `berth registry` on
 * loopback. It resolves hosts, authenticates, verifies every digest, retries,
 * and bounds parallel transfers (3 downloads, 5 uploads by default). Pull and
 * push orchestration (which blobs, in what order, progress) belongs to the
 * image store; this is the wire.
 *
 *   const c = new RegistryClient()
 *   const m = await c.resolveManifest('localhost:5000/app:1')          // platform picked from an index
 *   for (const l of m.manifest.layers) (await c.fetchBlob(m.repo, l)).pipe(sink)   // verified as it streams
 *   await c.pushBlob(repo, desc, () => fs.createReadStream(file), 'library/base')
 *   await c.putManifest(repo, 'v1', bytes, MediaType.ociManifest)
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { pipeline, Readable } from 'node:stream';
import { BerthError, InvalidArgument, NotFound, Unauthorized } from '../../common/errors.js';
import { loadCredentials, type Credentials } from './credentials.js';
import { resolveHost, type HostOptions } from './hosts.js';
import {
  isDigest, isIndexType, manifestMediaType, manifestMediaTypes, parseDigest, sha256Digest,
  type Descriptor, type ImageIndex, type ImageManifest, type Platform,
} from './oci.js';
import { defaultPlatform, parsePlatform, selectPlatform } from './platform.js';
import { familiarName, parseReference, type Reference } from '../images/reference.js';
import { isRetryable, NoCredentials, readAll, RegistryResponseError, responseError, Transport, type RetryPolicy } from './transport.js';
import { Semaphore, verifier } from './verify.js';
import { rawText } from './raw-get.js';
import { chunksOf, type ChunkSource } from '../content/store.js';

/** A repository on a registry: `{ domain: 'docker.io', path: 'library/php' }`. */
export interface Repository {
  domain: string;
  path: string;
}

export interface ClientOptions extends HostOptions {
  /** Where config.json lives (default `$DOCKER_CONFIG` or `~/.docker`). */
  dockerConfigDir?: string;
  /** Credentials for a registry, overriding config.json (e.g. sent with an API call). */
  credentials?: (registry: string) => Promise<Credentials | undefined> | Credentials | undefined;
  maxConcurrentDownloads?: number;
  maxConcurrentUploads?: number;
  /** Slots shared with other clients (a daemon bounds all its pulls together); overrides the counts above. */
  downloadSlots?: Semaphore;
  uploadSlots?: Semaphore;
  retry?: RetryPolicy;
}

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

export interface ResolvedManifest extends FetchedManifest {
  repo: Repository;
  manifest: ImageManifest;
  /** The index the manifest was picked from, when the reference named one. */
  index?: FetchedManifest;
}

export type PushResult = 'exists' | 'mounted' | 'pushed';

export class RegistryClient {
  private transports = new Map<string, Promise<Transport>>();
  private downloads: Semaphore;
  private uploads: Semaphore;

  constructor(private readonly opts: ClientOptions = {}) {
    this.downloads = opts.downloadSlots ?? new Semaphore(opts.maxConcurrentDownloads ?? 3);
    this.uploads = opts.uploadSlots ?? new Semaphore(opts.maxConcurrentUploads ?? 5);
  }

  /** Closes kept-alive connections. */
  async close(): Promise<void> {
    for (const t of this.transports.values()) (await t.catch(() => undefined))?.close();
    this.transports.clear();
  }

  /**
   * Checks the client's credentials against the registry (`docker login`):
   * `GET /v2/`, answering its challenge. Throws Unauthorized with Docker's
   * wording when the registry refuses them.
   */
  async checkLogin(domain: string): Promise<void> {
    const t = await this.transport(domain);
    const refused = async (status: number, text: string) => new Unauthorized(`login attempt to ${new URL('/v2/', await t.baseUrlOf())} failed with status: ${status} ${text}`);
    const res = await t.send({ method: 'GET', path: '/v2/', scopes: [] }).catch(async (err) => {
      // No credentials to answer a basic challenge with: the transport gives up before asking.
      if (err instanceof NoCredentials || (err instanceof RegistryResponseError && err.code === 'UNAUTHORIZED')) throw await refused(401, 'Unauthorized');
      throw err;
    });
    res.resume();
    if (res.statusCode === 401 || res.statusCode === 403) throw await refused(res.statusCode, res.statusMessage ?? '');
    if ((res.statusCode ?? 0) >= 300) throw responseError(res, Buffer.alloc(0));
  }

  /** Digest, media type and size of a manifest without fetching it; undefined if absent. */
  async headManifest(repo: Repository, ref: string): Promise<{ digest?: string; mediaType: string; size: number } | undefined> {
    const t = await this.transport(repo.domain);
    const res = await t.send({ method: 'HEAD', path: manifestPath(repo, ref), headers: { Accept: manifestMediaTypes.join(', ') }, scopes: [pullScope(repo)] });
    res.resume();
    if (res.statusCode === 404) return undefined;
    if ((res.statusCode ?? 0) >= 300) throw responseError(res, Buffer.alloc(0));
    const digest = header(res, 'docker-content-digest');
    return {
      digest: digest && isDigest(digest) ? digest : undefined,
      mediaType: (header(res, 'content-type') ?? '').split(';')[0],
      size: Number(header(res, 'content-length') ?? -1),
    };
  }

  /** Fetches a manifest by tag or digest, checking its bytes against the digest. */
  async getManifest(repo: Repository, ref: string): Promise<FetchedManifest> {
    const t = await this.transport(repo.domain);
    const { res, body } = await t.sendForBody({
      method: 'GET', path: manifestPath(repo, ref), headers: { Accept: manifestMediaTypes.join(', ') }, scopes: [pullScope(repo)],
    }).catch((err) => {
      if (err instanceof BerthError && err.status === 404) {
        throw new NotFound(`manifest for ${familiarName(repo)}${isDigest(ref) ? '@' : ':'}${ref} not found: ${err.message}`);
      }
      throw err;
    });
    const claimed = isDigest(ref) ? ref : header(res, 'docker-content-digest');
    const digest = claimed && isDigest(claimed) ? claimed : sha256Digest(body);
    const { algorithm, hex } = parseDigest(digest);
    if (createHash(algorithm).update(body).digest('hex') !== hex) {
      throw new BerthError(`manifest verification failed for digest ${digest}`);
    }
    let parsed: any;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new BerthError(`manifest ${digest} is not JSON`);
    }
    const ct = (header(res, 'content-type') ?? '').split(';')[0].trim();
    const mediaType = manifestMediaType(parsed) ?? ct;
    if (!manifestMediaTypes.includes(mediaType)) {
      throw new BerthError(`unsupported manifest media type ${JSON.stringify(mediaType)} for ${repo.path}:${ref}`);
    }
    return { digest, mediaType, bytes: body };
  }

  /**
   * Resolves a reference to one image manifest: HEAD for the digest, GET by
   * digest, and when that is an index, the entry for `platform` (default: this
   * machine's).
   */
  async resolveManifest(ref: Reference | string, platform?: Platform | string): Promise<ResolvedManifest> {
    const r = typeof ref === 'string' ? parseReference(ref) : ref;
    const repo = { domain: r.domain, path: r.path };
    let target = r.digest ?? r.tag ?? 'latest';
    if (!r.digest) {
      // HEAD first: cheap, and not counted against Docker Hub's pull limit. Some
      // registries answer HEAD badly (405, no digest); GET by tag then decides.
      const head = await this.headManifest(repo, target).catch((err) => {
        if (err instanceof NoCredentials || (err instanceof RegistryResponseError && err.code === 'UNAUTHORIZED') || (err instanceof BerthError && err.status === 401)) throw err;
        return null;
      });
      if (head === undefined) throw new NotFound(`manifest for ${familiarName(repo)}:${target} not found: manifest unknown: manifest unknown`);
      if (head?.digest) target = head.digest;
    }
    const top = await this.getManifest(repo, target);
    if (!isIndexType(top.mediaType)) return { ...top, repo, manifest: parseImageManifest(top) };
    const want = typeof platform === 'string' ? parsePlatform(platform) : platform ?? defaultPlatform();
    const entry = selectPlatform(JSON.parse(top.bytes.toString('utf8')) as ImageIndex, want);
    const child = await this.getManifest(repo, entry.digest);
    if (isIndexType(child.mediaType)) throw new BerthError(`nested index ${child.digest} is not supported`);
    return { ...child, repo, manifest: parseImageManifest(child), index: top };
  }

  /** True when the repository has the blob (HEAD). */
  async blobExists(repo: Repository, digest: string, scopes = [pullScope(repo)]): Promise<boolean> {
    const t = await this.transport(repo.domain);
    const res = await t.send({ method: 'HEAD', path: blobPath(repo, digest), scopes });
    res.resume();
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    throw responseError(res, Buffer.alloc(0));
  }

  /**
   * The blob's bytes, verified as they stream: the stream errors instead of
   * ending if the size or digest is wrong (unless `verify: false`). Holds a download slot until the
   * stream ends or is destroyed.
   */
  async fetchBlob(repo: Repository, desc: Pick<Descriptor, 'digest' | 'size'>, opts: { verify?: boolean } = {}): Promise<Readable> {
    parseDigest(desc.digest);
    const release = await this.downloads.acquire();
    try {
      const t = await this.transport(repo.domain);
      const req = { method: 'GET', path: blobPath(repo, desc.digest), scopes: [pullScope(repo)] };
      const first = await t.send(req);
      if (first.statusCode !== 200) throw responseError(first, await readAll(first).catch(() => Buffer.alloc(0)));
      const resumes = this.opts.retry?.attempts ?? 5;
      // A connection cut mid-blob resumes with a Range request from the last
      // byte received instead of starting a large layer again.
      async function* body(): AsyncGenerator<Buffer> {
        let res = first;
        let offset = 0;
        let skip = 0;
        for (let left = resumes; ; left--) {
          try {
            for await (const chunk of res as AsyncIterable<Buffer>) {
              if (skip >= chunk.length) { skip -= chunk.length; continue; }
              const c = skip ? chunk.subarray(skip) : chunk;
              skip = 0;
              offset += c.length;
              yield c;
            }
            return;
          } catch (err) {
            if (left <= 0 || !isRetryable(err)) throw err;
          }
          res = await t.send({ ...req, headers: { Range: `bytes=${offset}-` } });
          if (res.statusCode === 200) skip = offset; // the server ignored Range: drop what we have
          else if (res.statusCode !== 206 || !new RegExp(`^bytes ${offset}-`).test(String(res.headers['content-range']))) {
            throw responseError(res, await readAll(res).catch(() => Buffer.alloc(0)));
          }
        }
      }
      // `verify: false` is for a caller that checks digest and size itself before
      // using the bytes (the content store does): hashing twice costs a core.
      if (opts.verify === false) {
        const out = Readable.from(body());
        let done = false;
        const end = () => { if (!done) { done = true; release(); } };
        out.once('end', end).once('close', end).once('error', end);
        return out;
      }
      return pipeline(Readable.from(body()), verifier(desc), () => release());
    } catch (err) {
      release();
      throw err;
    }
  }

  /**
   * The blob's bytes, unverified, pushed to a sink as they arrive (see
   * ChunkSource), for a caller that checks digest and size itself (the
   * content store does). From a plain-http registry they are read off the
   * socket into one reused buffer (raw-get.ts); over TLS, or when a redirect
   * leads to https, through fetchBlob. Holds a download slot while it runs; a
   * connection cut mid-blob resumes with a Range request from the last byte
   * received, as fetchBlob does.
   *
   *   await client.blobChunks(repo, layer)((chunk) => writer.write(chunk));
   */
  blobChunks(repo: Repository, desc: Pick<Descriptor, 'digest' | 'size'>): ChunkSource {
    return async (sink) => {
      parseDigest(desc.digest);
      const t = await this.transport(repo.domain);
      const viaStream = async () => chunksOf(await this.fetchBlob(repo, desc, { verify: false }))(sink);
      if (!(await t.baseUrlOf()).startsWith('http:')) return viaStream();
      const release = await this.downloads.acquire();
      let offset = 0;
      try {
        const req = { path: blobPath(repo, desc.digest), scopes: [pullScope(repo)] };
        let skip = 0;
        // A failure of the sink (a full disk, a wrong size) is no reason to download again.
        let sinkFailed = false;
        const take = (chunk: Buffer) => {
          if (skip >= chunk.length) { skip -= chunk.length; return undefined; }
          const c = skip ? chunk.subarray(skip) : chunk;
          skip = 0;
          offset += c.length;
          let p;
          try { p = sink(c); } catch (err) { sinkFailed = true; throw err; }
          return p ? p.catch((err) => { sinkFailed = true; throw err; }) : undefined;
        };
        for (let left = this.opts.retry?.attempts ?? 5; ; left--) {
          const res = await t.getRaw(offset ? { ...req, headers: { Range: `bytes=${offset}-` } } : req);
          if (!res) {
            if (offset > 0) throw new BerthError(`registry ${repo.domain} moved blob ${desc.digest} to https in the middle of its download`);
            break;
          }
          if (offset === 0 ? res.status !== 200 : res.status !== 200 && (res.status !== 206 || !new RegExp(`^bytes ${offset}-`).test(res.headers['content-range'] ?? ''))) {
            throw responseError({ statusCode: res.status }, await rawText(res));
          }
          if (res.status === 200) skip = offset; // the server ignored Range: drop what we have
          try {
            await res.pump(take);
            return;
          } catch (err) {
            if (sinkFailed || left <= 1 || !isRetryable(err)) throw err;
          }
        }
      } finally {
        release();
      }
      return viaStream();
    };
  }

  /**
   * Puts a blob in the repository unless it is already there ("Layer already
   * exists"), trying a cross-repository mount from `mountFrom` (a repository
   * path on the same registry) before uploading `open()`'s bytes in one PUT.
   */
  async pushBlob(repo: Repository, desc: Pick<Descriptor, 'digest' | 'size'>, open: () => Readable, mountFrom?: string): Promise<PushResult> {
    parseDigest(desc.digest);
    const release = await this.uploads.acquire();
    try {
      const push = [pushScope(repo)];
      if (await this.blobExists(repo, desc.digest, push)) return 'exists';
      const t = await this.transport(repo.domain);
      let location: string | undefined;
      if (mountFrom && mountFrom !== repo.path) {
        const q = new URLSearchParams({ mount: desc.digest, from: mountFrom });
        const res = await t.send({ method: 'POST', path: `/v2/${repo.path}/blobs/uploads/?${q}`, headers: { 'Content-Length': '0' }, scopes: [...push, `repository:${mountFrom}:pull`] });
        const body = await readAll(res);
        if (res.statusCode === 201) return 'mounted';
        if (res.statusCode !== 202) throw responseError(res, body);
        location = header(res, 'location');
      }
      if (!location) {
        const res = await t.send({ method: 'POST', path: `/v2/${repo.path}/blobs/uploads/`, headers: { 'Content-Length': '0' }, scopes: push });
        const body = await readAll(res);
        if (res.statusCode !== 202) throw responseError(res, body);
        location = header(res, 'location');
      }
      if (!location) throw new BerthError(`registry ${repo.domain} started an upload without a Location`);
      const url = new URL(location, 'http://placeholder');
      url.searchParams.set('digest', desc.digest);
      const path = /^https?:\/\//.test(location) ? url.toString() : url.pathname + url.search;
      const { res } = await t.sendForBody({
        // Checked on the way out too: a short or changed source must fail the
        // request, not leave the registry waiting for bytes that never come.
        method: 'PUT', path, body: () => pipeline(open(), verifier(desc), () => {}), scopes: push,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(desc.size) },
      });
      if (res.statusCode !== 201 && res.statusCode !== 204) throw new BerthError(`blob upload of ${desc.digest} answered ${res.statusCode}`);
      return 'pushed';
    } finally {
      release();
    }
  }

  /** Uploads a manifest under a tag (or its digest); returns its digest. */
  async putManifest(repo: Repository, ref: string, bytes: Buffer, mediaType: string): Promise<string> {
    const t = await this.transport(repo.domain);
    const { res } = await t.sendForBody({
      method: 'PUT', path: manifestPath(repo, ref), body: () => bytes, scopes: [pushScope(repo)],
      headers: { 'Content-Type': mediaType, 'Content-Length': String(bytes.length) },
    });
    const digest = sha256Digest(bytes);
    const claimed = header(res, 'docker-content-digest');
    if (claimed && claimed.startsWith('sha256:') && claimed !== digest) {
      throw new BerthError(`registry stored manifest as ${claimed}, expected ${digest}`);
    }
    return digest;
  }

  /** Every tag of the repository, following `Link` pagination. */
  async listTags(repo: Repository, pageSize = 1000): Promise<string[]> {
    const t = await this.transport(repo.domain);
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repo.path}/tags/list?n=${pageSize}`;
    while (path) {
      const { res, body } = await t.sendForBody({ method: 'GET', path, scopes: [pullScope(repo)] });
      tags.push(...(JSON.parse(body.toString('utf8')).tags ?? []));
      path = /<([^>]+)>;\s*rel="?next"?/.exec(header(res, 'link') ?? '')?.[1];
    }
    return tags;
  }

  private transport(domain: string): Promise<Transport> {
    let t = this.transports.get(domain);
    if (!t) {
      t = (async () => {
        const host = await resolveHost(domain, this.opts);
        const creds = this.opts.credentials ? await this.opts.credentials(domain) : await loadCredentials(domain, this.opts.dockerConfigDir);
        return new Transport(host, creds, this.opts.retry);
      })();
      t.catch(() => this.transports.delete(domain));
      this.transports.set(domain, t);
    }
    return t;
  }
}

function parseImageManifest(m: FetchedManifest): ImageManifest {
  const parsed = JSON.parse(m.bytes.toString('utf8'));
  if (!parsed.config || !Array.isArray(parsed.layers)) throw new InvalidArgument(`manifest ${m.digest} has no config or layers`);
  return parsed as ImageManifest;
}

function manifestPath(repo: Repository, ref: string): string {
  return `/v2/${repo.path}/manifests/${ref}`;
}
function blobPath(repo: Repository, digest: string): string {
  return `/v2/${repo.path}/blobs/${digest}`;
}
function pullScope(repo: Repository): string {
  return `repository:${repo.path}:pull`;
}
function pushScope(repo: Repository): string {
  return `repository:${repo.path}:pull,push`;
}
function header(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
