/**
 * A loopback HTTP proxy in front of a registry, for fixtures that misbehave
 * (token auth, 5xx, resets, slow answers). `hook` may answer a request itself
 * and return true; otherwise the request is forwarded unchanged.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Hook = (req: http.IncomingMessage, res: http.ServerResponse) => boolean | Promise<boolean>;

export interface Proxy {
  url: string;
  host: string;
  stop(): Promise<void>;
}

export async function startProxy(target: string, hook: Hook): Promise<Proxy> {
  const t = new URL(target);
  const server = http.createServer(async (req, res) => {
    try {
      if (await hook(req, res)) return;
    } catch (err) {
      res.writeHead(500).end(String(err));
      return;
    }
    const headers = { ...req.headers, host: t.host };
    const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    stop: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}
