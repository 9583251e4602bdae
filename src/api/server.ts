import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { promises as fs } from 'node:fs';
import { errorMessage, errorStatus, InvalidArgument } from '../common/errors.js';
import { log } from '../common/log.js';
import { readBody, type ApiContext, type Router } from './router.js';
import { API_MAX_VERSION, API_MIN_VERSION, compareVersions } from './version.js';

const versionPrefix = /^\/v(\d+\.\d+)(\/.*)$/;

/**
 * The HTTP front of the daemon: strips the `/vX.Y` prefix, dispatches to the
 * router, turns thrown service errors into Docker's `{"message": ...}` bodies,
 * and hands upgrade requests (attach, exec) their raw socket.
 */
export function createApiServer(router: Router): http.Server {
  const server = http.createServer({ keepAlive: true, requestTimeout: 0 }, (req, res) => {
    void dispatch(router, req, res);
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node hands `Connection: Upgrade` requests here; answer them through a
    // ServerResponse bound to the socket so handlers stay uniform.
    const res = new http.ServerResponse(req);
    res.assignSocket(socket as any);
    void dispatch(router, req, res, socket, head);
  });
  server.headersTimeout = 0;
  server.timeout = 0;
  return server;
}

async function dispatch(router: Router, req: http.IncomingMessage, res: http.ServerResponse, upgradeSocket?: Duplex, upgradeHead?: Buffer): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://berth');
  let path = url.pathname;
  let apiVersion = API_MAX_VERSION;
  const m = versionPrefix.exec(path);
  if (m) {
    apiVersion = m[1];
    path = m[2];
  }
  res.setHeader('Api-Version', API_MAX_VERSION);
  res.setHeader('Server', 'Berth');
  res.setHeader('Docker-Experimental', 'false');
  res.setHeader('Ostype', 'linux');
  const ctx = makeContext(req, res, url.searchParams, apiVersion, upgradeSocket, upgradeHead);
  // One debug line per request with its duration: how a client's command maps to calls and where time goes.
  if (log.enabled('debug')) {
    const t0 = performance.now();
    const done = () => log.debug('api', `${req.method} ${req.url}`, { status: res.statusCode, ms: Math.round(performance.now() - t0) });
    if (upgradeSocket) upgradeSocket.once('close', done);
    else res.once('close', done);
  }
  try {
    if (m && compareVersions(apiVersion, API_MAX_VERSION) > 0) {
      throw new InvalidArgument(`client version ${apiVersion} is too new. Maximum supported API version is ${API_MAX_VERSION}`);
    }
    if (m && compareVersions(apiVersion, API_MIN_VERSION) < 0) {
      throw new InvalidArgument(`client version ${apiVersion} is too old. Minimum supported API version is ${API_MIN_VERSION}, please upgrade your client to a newer version`);
    }
    const found = router.match(req.method ?? 'GET', path);
    if (found === undefined) {
      ctx.json(404, { message: `page not found` });
      return;
    }
    if (found === 'methodMismatch') {
      ctx.json(405, { message: `method ${req.method} not allowed for ${path}` });
      return;
    }
    ctx.params = found.params;
    await found.handler(ctx);
  } catch (err) {
    const status = errorStatus(err);
    if (status >= 500) log.error('api', `${req.method} ${req.url} failed`, { error: errorMessage(err), stack: (err as Error)?.stack });
    else log.debug('api', `${req.method} ${req.url} -> ${status}`, { error: errorMessage(err) });
    if (!res.headersSent) {
      ctx.json(status, { message: errorMessage(err) });
    } else if (!res.writableEnded) {
      // Mid-stream failure: JSON-lines streams carry errors in-band.
      if (res.getHeader('Content-Type') === 'application/json') {
        res.write(JSON.stringify({ errorDetail: { message: errorMessage(err) }, error: errorMessage(err) }) + '\n');
      }
      res.end();
    }
  }
}

function makeContext(req: http.IncomingMessage, res: http.ServerResponse, query: URLSearchParams, apiVersion: string, upgradeSocket?: Duplex, upgradeHead?: Buffer): ApiContext {
  let bodyPromise: Promise<any> | undefined;
  const ctx: ApiContext = {
    req, res, query, apiVersion, upgradeSocket, params: {},
    get upgradeHead() { return upgradeHead; },
    body<T>() {
      bodyPromise ??= (upgradeSocket ? readUpgradeBody(req, upgradeSocket, upgradeHead, (rest) => { upgradeHead = rest; }) : readBody(req)).then((buf) => {
        const text = buf.toString('utf8').trim();
        if (!text) return {};
        try {
          return JSON.parse(text);
        } catch (err) {
          throw new InvalidArgument(`invalid JSON in request body: ${errorMessage(err)}`);
        }
      });
      return bodyPromise as Promise<T>;
    },
    json(status, value) {
      const text = JSON.stringify(value) + '\n';
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
    },
    empty(status = 204) {
      res.writeHead(status);
      res.end();
    },
    flag(name, dflt = false) {
      const v = query.get(name);
      if (v === null || v === '') return dflt;
      return !['0', 'false', 'False', 'FALSE', 'no'].includes(v);
    },
    jsonQuery<T>(name: string) {
      const v = query.get(name);
      if (v === null || v === '') return undefined;
      try {
        return JSON.parse(v) as T;
      } catch {
        throw new InvalidArgument(`invalid ${name} parameter: ${v}`);
      }
    },
  };
  return ctx;
}

/**
 * Node does not parse the body of an upgrade request: it arrives in `head`
 * and on the socket. Read exactly Content-Length bytes; whatever follows is
 * stream data and is handed back through `keepRest`.
 */
async function readUpgradeBody(req: http.IncomingMessage, socket: Duplex, head: Buffer | undefined, keepRest: (rest: Buffer) => void): Promise<Buffer> {
  const want = Number(req.headers['content-length'] ?? 0);
  let buf = head ?? Buffer.alloc(0);
  while (buf.length < want) {
    const chunk = await new Promise<Buffer | null>((resolve) => {
      const onData = (d: Buffer) => { cleanup(); resolve(d); };
      const onEnd = () => { cleanup(); resolve(null); };
      const cleanup = () => { socket.off('data', onData); socket.off('end', onEnd); socket.off('close', onEnd); socket.pause(); };
      socket.on('data', onData);
      socket.once('end', onEnd);
      socket.once('close', onEnd);
      socket.resume();
    });
    if (chunk === null) break;
    buf = Buffer.concat([buf, chunk]);
  }
  keepRest(buf.subarray(want));
  return buf.subarray(0, want);
}

/** Parses `-H` values: `unix:///path`, `tcp://host:port`, `fd://` is refused. */
export function parseListenAddress(addr: string): { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number } {
  if (addr.startsWith('unix://')) return { kind: 'unix', path: addr.slice('unix://'.length) };
  if (addr.startsWith('/')) return { kind: 'unix', path: addr };
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:]*)(?::(\d+))?$/.exec(addr);
  if (m) return { kind: 'tcp', host: m[1].replace(/^\[|\]$/g, '') || '0.0.0.0', port: Number(m[2] ?? 2375) };
  throw new InvalidArgument(`invalid listen address ${addr}: want unix:///path or tcp://host:port`);
}

/** Listens on one address; a unix socket is created with mode 0660. */
export async function listen(server: http.Server, addr: string): Promise<void> {
  const a = parseListenAddress(addr);
  if (a.kind === 'unix') {
    await fs.rm(a.path, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(a.path, () => { server.off('error', reject); resolve(); });
    });
    await fs.chmod(a.path, 0o660);
  } else {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(a.port, a.host, () => { server.off('error', reject); resolve(); });
    });
  }
}
