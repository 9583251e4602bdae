import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { InvalidArgument } from '../common/errors.js';

/**
 * One API call as a handler sees it. Paths arrive without the `/vX.Y`
 * prefix; `apiVersion` says which version the client asked for so answers can
 * be shaped by it.
 *
 *   r.get('/containers/:id/json', async (c) => c.json(200, await svc.inspect(c.params.id)))
 */
export interface ApiContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The API version the client asked for ("1.41"), or the server default. */
  apiVersion: string;
  /** Set when the client asked for a connection upgrade (attach, exec start): the raw socket. */
  upgradeSocket?: Duplex;
  upgradeHead?: Buffer;
  /** Parses the JSON body (empty body → `{}`); throws InvalidArgument on bad JSON. */
  body<T = any>(): Promise<T>;
  json(status: number, value: unknown): void;
  /** Empty answer (204 by default). */
  empty(status?: number): void;
  /** Query flag the way Docker reads it: "1", "true", "True" are true. */
  flag(name: string, dflt?: boolean): boolean;
  /** A query value parsed as JSON (Docker's `filters=` and friends). */
  jsonQuery<T>(name: string): T | undefined;
}

export type Handler = (c: ApiContext) => Promise<void> | void;

interface Route { method: string; parts: string[]; handler: Handler }

export class Router {
  private routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): void {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), handler });
  }
  get(p: string, h: Handler) { this.add('GET', p, h); }
  head(p: string, h: Handler) { this.add('HEAD', p, h); }
  post(p: string, h: Handler) { this.add('POST', p, h); }
  put(p: string, h: Handler) { this.add('PUT', p, h); }
  delete(p: string, h: Handler) { this.add('DELETE', p, h); }

  /**
   * Finds the handler for a method and path. A `:name` segment matches one path
   * segment; a `*name` segment (last only) matches the rest, slashes included,
   * because image names such as `localhost:5000/a/b` travel unescaped in paths.
   * Returns `methodMismatch` when the path exists under another method.
   */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | 'methodMismatch' | undefined {
    const segs = path.split('/').filter(Boolean).map((s) => safeDecode(s));
    let pathFound = false;
    for (const r of this.routes) {
      const params = matchParts(r.parts, segs);
      if (!params) continue;
      if (r.method === method || (method === 'HEAD' && r.method === 'GET')) return { handler: r.handler, params };
      pathFound = true;
    }
    return pathFound ? 'methodMismatch' : undefined;
  }
}

function safeDecode(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}

function matchParts(parts: string[], segs: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.startsWith('*')) {
      // Greedy "rest" match, but leave room for literal segments after it
      // (`/images/*name/json`): try the longest split whose tail matches.
      const tail = parts.slice(i + 1);
      for (let end = segs.length - tail.length; end > i; end--) {
        const rest = matchParts(tail, segs.slice(end));
        if (rest) {
          params[p.slice(1)] = segs.slice(i, end).join('/');
          return { ...params, ...rest };
        }
      }
      return undefined;
    }
    if (i >= segs.length) return undefined;
    if (p.startsWith(':')) params[p.slice(1)] = segs[i];
    else if (p !== segs[i]) return undefined;
  }
  return parts.length === segs.length ? params : undefined;
}

/** Reads a request body into memory, refusing bodies over `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = 32 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new InvalidArgument(`request body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
