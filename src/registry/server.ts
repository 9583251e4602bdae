/**
 * `berth registry serve`: an OCI Distribution Spec v1.1 / Docker Registry v2
 * server over a directory.
 *
 *   const srv = await RegistryServer.create({ root: '/var/lib/berth-registry' })
 *   const { port } = await srv.listen('127.0.0.1:5000')
 *   …
 *   await srv.close()
 */
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { log } from '../common/log.js';
import { BlobStore } from './blob-store.js';
import { RegistryError } from './errors.js';
import { Handlers, type Req } from './handlers.js';
import { Htpasswd } from './htpasswd.js';
import { Layout, repoNameRe } from './layout.js';
import { ManifestStore } from './manifest-store.js';

export interface RegistryOptions {
  /** Directory holding blobs, repositories and uploads; created if missing. */
  root: string;
  /** htpasswd file (bcrypt entries): every request then needs basic auth. */
  htpasswd?: string;
  /** PEM certificate and key: serve HTTPS instead of HTTP. */
  tlsCert?: string;
  tlsKey?: string;
  /** Refuse every write (push, delete) with 405 UNSUPPORTED. */
  readOnly?: boolean;
  /** Realm named in the basic-auth challenge. */
  realm?: string;
}

type Route = { method: string; re: RegExp; handler: keyof Handlers; write?: boolean };

// NAME is matched lazily so `a/blobs/uploads/` names repo `a`, not `a/blobs`.
const N = '(.+?)';
const routes: Route[] = [
  { method: 'GET', re: /^\/v2\/_catalog$/, handler: 'catalog' },
  { method: 'GET', re: new RegExp(`^/v2/${N}/tags/list$`), handler: 'tagsList' },
  { method: 'GET', re: new RegExp(`^/v2/${N}/referrers/([^/]+)$`), handler: 'referrers' },
  { method: 'GET', re: new RegExp(`^/v2/${N}/manifests/([^/]+)$`), handler: 'getManifest' },
  { method: 'PUT', re: new RegExp(`^/v2/${N}/manifests/([^/]+)$`), handler: 'putManifest', write: true },
  { method: 'DELETE', re: new RegExp(`^/v2/${N}/manifests/([^/]+)$`), handler: 'deleteManifest', write: true },
  { method: 'POST', re: new RegExp(`^/v2/${N}/blobs/uploads/?()$`), handler: 'startUpload', write: true },
  { method: 'GET', re: new RegExp(`^/v2/${N}/blobs/uploads/([^/]+)$`), handler: 'getUpload' },
  { method: 'PATCH', re: new RegExp(`^/v2/${N}/blobs/uploads/([^/]+)$`), handler: 'patchUpload', write: true },
  { method: 'PUT', re: new RegExp(`^/v2/${N}/blobs/uploads/([^/]+)$`), handler: 'putUpload', write: true },
  { method: 'DELETE', re: new RegExp(`^/v2/${N}/blobs/uploads/([^/]+)$`), handler: 'cancelUpload', write: true },
  { method: 'GET', re: new RegExp(`^/v2/${N}/blobs/([^/]+)$`), handler: 'getBlob' },
  { method: 'DELETE', re: new RegExp(`^/v2/${N}/blobs/([^/]+)$`), handler: 'deleteBlob', write: true },
];

export class RegistryServer {
  private server: http.Server;

  private constructor(private readonly opts: RegistryOptions, private readonly handlers: Handlers, private readonly users?: Htpasswd) {
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => void this.serve(req, res);
    this.server = opts.tlsCert
      ? https.createServer({ cert: opts.tlsCert, key: opts.tlsKey }, onRequest)
      : http.createServer(onRequest);
    this.server.keepAliveTimeout = 30_000;
  }

  static async create(opts: RegistryOptions): Promise<RegistryServer> {
    const layout = new Layout(opts.root);
    for (const d of [layout.blobsDir, layout.uploadsDir, layout.reposDir]) await fs.mkdir(d, { recursive: true });
    const blobs = new BlobStore(layout);
    const users = opts.htpasswd ? await Htpasswd.load(opts.htpasswd) : undefined;
    let tls = opts;
    if (opts.tlsCert || opts.tlsKey) {
      if (!opts.tlsCert || !opts.tlsKey) throw new Error('--tls-cert and --tls-key go together');
      tls = { ...opts, tlsCert: await fs.readFile(opts.tlsCert, 'utf8'), tlsKey: await fs.readFile(opts.tlsKey, 'utf8') };
    }
    return new RegistryServer(tls, new Handlers(blobs, new ManifestStore(layout, blobs)), users);
  }

  /** Listens on `host:port`, `:port` (all interfaces) or `[v6]:port`; port 0 picks a free one. */
  async listen(addr: string): Promise<AddressInfo> {
    const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
    if (!m) throw new Error(`invalid listen address ${JSON.stringify(addr)} (want host:port or :port)`);
    const host = m[1] ?? (m[2] || undefined);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(Number(m[3]), host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.setHeader('Docker-Distribution-Api-Version', 'registry/2.0');
    const url = new URL(req.url ?? '/', 'http://registry');
    try {
      if (this.users && !(await this.users.verify(req.headers.authorization))) {
        res.setHeader('WWW-Authenticate', `Basic realm="${this.opts.realm ?? 'berth-registry'}"`);
        throw new RegistryError('UNAUTHORIZED');
      }
      if (url.pathname === '/v2' || url.pathname === '/v2/') {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new RegistryError('UNSUPPORTED');
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 2 }).end(req.method === 'HEAD' ? undefined : '{}');
        return;
      }
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      let pathFound = false;
      for (const r of routes) {
        const m = r.re.exec(url.pathname);
        if (!m) continue;
        if (r.method !== method) {
          pathFound = true;
          continue;
        }
        if (r.write && this.opts.readOnly) throw new RegistryError('UNSUPPORTED', undefined, 'registry is in read-only mode');
        const name = r.handler === 'catalog' ? '' : decode(m[1]);
        if (r.handler !== 'catalog' && !repoNameRe.test(name)) throw new RegistryError('NAME_INVALID', { name: m[1] });
        const ctx: Req = { req, res, name, ref: m[2] ? decode(m[2]) : '', query: url.searchParams };
        await this.handlers[r.handler](ctx);
        return;
      }
      if (pathFound) throw new RegistryError('UNSUPPORTED');
      res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': 19 }).end('404 page not found\n');
    } catch (err) {
      this.fail(req, res, err);
    }
  }

  private fail(req: http.IncomingMessage, res: http.ServerResponse, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    let body: string;
    let status: number;
    if (err instanceof RegistryError) {
      status = err.status;
      body = err.body();
    } else {
      status = 500;
      body = JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'unknown error', detail: String((err as Error)?.message ?? err) }] });
      // A client that hung up mid-body is routine (cancelled push); anything else is ours.
      const gone = req.destroyed || (err as any)?.code === 'ECONNRESET' || /aborted/.test(String(err));
      (gone ? log.debug : log.warn)('registry', 'request failed', { method: req.method, url: req.url, error: String(err) });
    }
    // The body may be unread (e.g. a refused PATCH): drain it so the connection stays usable.
    req.resume();
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

/** Percent-decoding that turns malformed escapes into a value no route accepts instead of a 500. */
function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return '\u0000';
  }
}
