import type { ApiContext, Router } from '../router.js';
import { decodeAuthHeader, type DistributionService } from '../../engine/distribution/service.js';
import type { ProgressMessage, ProgressSink } from '../../engine/distribution/progress.js';

/**
 * Registry traffic through the Engine API: pull (`POST /images/create?fromImage=`,
 * handed to the image routes), push and `POST /auth`. Progress goes out as
 * JSON lines; the status line is sent with the first message, so a failure
 * before any (no such manifest, bad credentials) is a plain HTTP error.
 *
 *   registerImageRoutes(r, images, { pull: pullHandler(dist) }); registerDistributionRoutes(r, dist)
 */
export function pullHandler(dist: DistributionService): (c: ApiContext) => Promise<void> {
  return async (c) => {
    const stream = progressStream(c);
    await dist.pull(c.query.get('fromImage') ?? '', c.query.get('tag') || undefined, {
      auth: decodeAuthHeader(header(c, 'x-registry-auth')),
      platform: c.query.get('platform') || undefined,
      progress: stream.send,
    });
    stream.end();
  };
}

export function registerDistributionRoutes(r: Router, dist: DistributionService): void {
  r.post('/images/*name/push', async (c) => {
    const stream = progressStream(c);
    await dist.push(c.params.name, c.query.get('tag') || undefined, { auth: decodeAuthHeader(header(c, 'x-registry-auth')), progress: stream.send });
    stream.end();
  });

  r.post('/auth', async (c) => {
    c.json(200, await dist.login(await c.body()));
  });
}

function progressStream(c: ApiContext): { send: ProgressSink; end: () => void } {
  const start = () => {
    if (!c.res.headersSent) c.res.writeHead(200, { 'Content-Type': 'application/json' });
  };
  return {
    send: (m: ProgressMessage) => {
      start();
      c.res.write(JSON.stringify(m) + '\r\n');
    },
    end: () => {
      start();
      c.res.end();
    },
  };
}

function header(c: ApiContext, name: string): string | undefined {
  const v = c.req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
