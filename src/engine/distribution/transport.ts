/**
 * HTTP to one registry: picks https or (for insecure hosts) http, keeps
 * connections alive, answers auth challenges, follows redirects (dropping
 * credentials when the host changes, as blob CDNs need), and retries with
 * exponential back-off on 5xx, 429 and connection errors.
 *
 *   const t = new Transport(host, creds)
 *   const res = await t.send({ method: 'HEAD', path: '/v2/app/blobs/sha256:…', scopes: ['repository:app:pull'] })
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { Readable } from 'node:stream';
import { BerthError, NotFound, Unauthorized } from '../../common/errors.js';
import { Authenticator, type TokenResponse } from './auth.js';
import type { Credentials } from './credentials.js';
import type { RegistryHost } from './hosts.js';
import { trustedCAs } from './trust.js';
import { rawRequest, type RawResponse } from './raw-get.js';

export interface SendOptions {
  method: string;
  /** Path and query on the registry (`/v2/…`), or an absolute URL from a Location header. */
  path: string;
  headers?: Record<string, string>;
  /** Makes the body; called again for each retry. */
  body?: () => Readable | Buffer;
  scopes: string[];
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
}

/** Failure reported by the registry, with the spec's error code when it sent one. */
export class RegistryResponseError extends BerthError {
  constructor(message: string, override readonly status: number, readonly code?: string) {
    super(message);
  }
}

/** A registry asked for basic auth and the caller gave no credentials. */
export class NoCredentials extends BerthError {}

/** Go's name for a request in its errors: `Get`, `Head`, `Put`. */
function goOp(method: string): string {
  return method.charAt(0).toUpperCase() + method.slice(1).toLowerCase();
}

/**
 * A refused connection in Go's words, as Docker reports it
 * (`Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused`);
 * keeps the code so it is still retried.
 */
function dialError(method: string, url: URL, err: any): unknown {
  if (err?.code !== 'ECONNREFUSED') return err;
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const e = new BerthError(`${goOp(method)} "${url.href}": dial tcp ${url.hostname}:${port}: connect: connection refused`);
  (e as any).code = err.code;
  return e;
}

const retryableCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

/** Connection failures worth another try: resets, refusals, timeouts, bodies cut short. */
export function isRetryable(err: any): boolean {
  return retryableCodes.has(err?.code) || /socket hang up|aborted/.test(String(err?.message));
}

export class Transport {
  private readonly auth: Authenticator;
  private readonly agent: http.Agent;
  private base?: Promise<string>;

  constructor(readonly host: RegistryHost, creds: Credentials | undefined, private readonly retry: RetryPolicy = { attempts: 5, baseDelayMs: 250 }) {
    // One TLS context for all of this registry's connections: given `ca`,
    // Node would otherwise parse the ~140 root certificates again for every
    // new socket (a pull opens several).
    const ca = trustedCAs(host.tls.ca);
    const { cert, key } = host.tls;
    this.agent = new https.Agent({
      keepAlive: true,
      secureContext: ca || cert || key ? tls.createSecureContext({ ca, cert, key }) : undefined,
      rejectUnauthorized: !host.insecure,
    });
    this.auth = new Authenticator(creds, (url, init) => this.tokenRequest(url, init));
  }

  close(): void {
    this.agent.destroy();
  }

  /**
   * Sends a request and returns the response once it is not a 401 to be
   * answered or a failure to be retried. The caller reads or drains the body.
   */
  async send(o: SendOptions): Promise<http.IncomingMessage> {
    const base = await this.baseUrl();
    return this.exchange(o, base, async (url, headers) => {
      const res = await this.request(url, o.method, headers, o.body?.());
      return { status: res.statusCode ?? 0, headers: res.headers, discard: () => res.resume(), res };
    }).then((r) => r.res);
  }

  /**
   * As send for a GET, over a plain socket whose body is read into a reused
   * buffer (see raw-get.ts): auth, retries and same-scheme redirects as send.
   * Undefined when this registry speaks https, or redirects there: the
   * caller then uses send.
   */
  async getRaw(o: Omit<SendOptions, 'method' | 'body'>): Promise<RawResponse | undefined> {
    const base = await this.baseUrl();
    if (!base.startsWith('http:')) return undefined;
    const r = await this.exchange({ ...o, method: 'GET' }, base, async (url, headers) => {
      const res = await this.rawFollow(url, headers);
      if (!res) return { status: 0, headers: {}, discard: () => undefined, res };
      return { status: res.status, headers: res.headers, discard: () => res.close(), res };
    });
    return r.res;
  }

  /** rawRequest, following plain-http redirects; undefined for one to https. */
  private async rawFollow(url: URL, headers: Record<string, string>, redirects = 0): Promise<RawResponse | undefined> {
    if (url.protocol !== 'http:') return undefined;
    const res = await rawRequest(url, 'GET', headers).catch((err) => { throw dialError('GET', url, err); });
    const loc = res.headers.location;
    if (loc && [301, 302, 303, 307, 308].includes(res.status) && redirects < 5) {
      res.close();
      const next = new URL(loc, url);
      const h = { ...headers };
      if (next.host !== url.host) delete h.Authorization;
      return this.rawFollow(next, h, redirects + 1);
    }
    return res;
  }

  /**
   * The request loop of send and getRaw: adds auth, answers a 401 challenge
   * once, retries connection errors, 5xx and 429 with back-off.
   */
  private async exchange<R>(o: SendOptions, base: string, attemptOnce: (url: URL, headers: Record<string, string>) => Promise<{ status: number; headers: http.IncomingHttpHeaders | Record<string, string>; discard(): void; res: R }>): Promise<{ res: R }> {
    let authRetried = false;
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = { 'User-Agent': 'berth', ...o.headers };
      const authz = await this.auth.header(o.scopes);
      if (authz) headers.Authorization = authz;
      let res: Awaited<ReturnType<typeof attemptOnce>>;
      try {
        res = await attemptOnce(new URL(o.path, base), headers);
      } catch (err: any) {
        if (attempt < this.retry.attempts && isRetryable(err)) {
          await sleep(this.backoff(attempt));
          continue;
        }
        throw err;
      }
      if (res.status === 401 && !authRetried) {
        res.discard();
        authRetried = true;
        if (authz) this.auth.invalidate(o.scopes);
        if (this.auth.learn(res.headers['www-authenticate'] as string | undefined)) {
          attempt--;
          continue;
        }
        // Docker's wording, and a 500 as Docker answers: a 401 would make the docker CLI prompt for a login.
        const challenge = String(res.headers['www-authenticate'] ?? '');
        if (/^basic\b/i.test(challenge) && !authz) throw new NoCredentials(`${goOp(o.method)} "${new URL(o.path, base).href}": no basic auth credentials`);
        throw new RegistryResponseError('unauthorized: authentication required', 500, 'UNAUTHORIZED');
      }
      const s = res.status;
      if ((s >= 500 && s !== 501) || s === 429) {
        if (attempt < this.retry.attempts) {
          res.discard();
          const after = Number(res.headers['retry-after']);
          await sleep(after > 0 && after < 30 ? after * 1000 : this.backoff(attempt));
          continue;
        }
      }
      return { res: res.res };
    }
  }

  /** Sends and reads the whole body; non-2xx answers become typed errors. */
  async sendForBody(o: SendOptions): Promise<{ res: http.IncomingMessage; body: Buffer }> {
    const res = await this.send(o);
    const body = await readAll(res);
    if ((res.statusCode ?? 0) >= 300) throw responseError(res, body);
    return { res, body };
  }

  private backoff(attempt: number): number {
    return this.retry.baseDelayMs * 2 ** (attempt - 1) * (0.75 + Math.random() / 2);
  }

  /** `https://host` or `http://host`, whichever this registry speaks. */
  baseUrlOf(): Promise<string> {
    return this.baseUrl();
  }

  /** https unless the host is insecure and does not speak TLS (Docker tries https first, then http). */
  private baseUrl(): Promise<string> {
    if (!this.host.insecure) return Promise.resolve(`https://${this.host.endpoint}`);
    this.base ??= (async () => {
      for (const scheme of ['https', 'http']) {
        try {
          const res = await this.request(new URL(`${scheme}://${this.host.endpoint}/v2/`), 'GET', {}, undefined);
          res.resume();
          return `${scheme}://${this.host.endpoint}`;
        } catch (err) {
          if (scheme === 'http') throw err;
        }
      }
      throw new Error('unreachable');
    })();
    // A registry that is down now may be up on the next call: do not remember the failure.
    this.base.catch(() => { this.base = undefined; });
    return this.base;
  }

  private async request(url: URL, method: string, headers: Record<string, string>, body: Readable | Buffer | undefined, redirects = 0): Promise<http.IncomingMessage> {
    const sameHost = url.host === this.host.endpoint;
    const mod = url.protocol === 'https:' ? https : http;
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = mod.request(url, {
        method,
        headers,
        agent: sameHost && url.protocol === 'https:' ? this.agent : undefined,
      }, resolve);
      req.on('error', (err) => reject(dialError(method, url, err)));
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        body.on('error', (err) => req.destroy(err));
        body.pipe(req);
      }
    });
    const s = res.statusCode ?? 0;
    const loc = res.headers.location;
    if (loc && [301, 302, 303, 307, 308].includes(s) && redirects < 5 && (method === 'GET' || method === 'HEAD')) {
      res.resume();
      const next = new URL(loc, url);
      const h = { ...headers };
      if (next.host !== url.host) delete h.Authorization;
      return this.request(next, method, h, undefined, redirects + 1);
    }
    return res;
  }

  private async tokenRequest(url: URL, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }): Promise<TokenResponse> {
    const res = await this.request(url, init.method, { 'User-Agent': 'berth', ...init.headers }, init.body === undefined ? undefined : Buffer.from(init.body));
    const body = await readAll(res);
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw new Unauthorized(`unauthorized: incorrect username or password`);
    }
    if ((res.statusCode ?? 0) >= 300) throw responseError(res, body);
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw new BerthError(`token server ${url.origin} sent a malformed answer`);
    }
  }
}

/** Turns an error answer into a typed error with Docker's wording (`manifest unknown: manifest unknown`). */
export function responseError(res: { statusCode?: number; statusMessage?: string }, body: Buffer): BerthError {
  const s = res.statusCode ?? 0;
  let code: string | undefined;
  let message = `unexpected status ${s} ${res.statusMessage ?? ''}`.trim();
  try {
    const e = JSON.parse(body.toString('utf8'))?.errors?.[0];
    if (e?.code) {
      code = e.code;
      message = `${String(e.code).toLowerCase().replace(/_/g, ' ')}: ${e.message ?? ''}`;
    }
  } catch { /* not a spec error body */ }
  // 500, not 401, as Docker answers: a 401 would make the docker CLI prompt for a login.
  if (s === 401) return new RegistryResponseError(code ? message : 'unauthorized', 500, code ?? 'UNAUTHORIZED');
  if (s === 404) return new NotFound(message);
  return new RegistryResponseError(message, s >= 400 ? s : 500, code);
}

export async function readAll(stream: Readable, limit = 16 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    size += (c as Buffer).length;
    if (size > limit) {
      stream.destroy();
      throw new BerthError(`response larger than ${limit} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
