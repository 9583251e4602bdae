import { InvalidArgument, NotFound } from '../../common/errors.js';
import type { StatsCollector, StatsTarget } from '../../engine/stats/collect.js';
import { statsFrames } from '../../engine/stats/stream.js';
import type { Router } from '../router.js';

export interface StatsRouteDeps {
  collector: StatsCollector;
  /** The container as it is now (pid 0 when not running); throws NotFound `No such container: x`. */
  target(ref: string): StatsTarget;
}

/** `GET /containers/{id}/stats?stream=&one-shot=`: what `docker stats` reads. */
export function registerStatsRoutes(r: Router, deps: StatsRouteDeps): void {
  r.get('/containers/:id/stats', async (c) => {
    const first = deps.target(c.params.id);
    const stream = c.flag('stream', true);
    const oneShot = c.flag('one-shot', false);
    if (oneShot && stream) throw new InvalidArgument('cannot have stream=true and one-shot=true');
    const ac = new AbortController();
    c.res.on('close', () => ac.abort());
    c.res.writeHead(200, { 'Content-Type': 'application/json' });
    c.res.flushHeaders();
    try {
      for await (const frame of statsFrames(deps.collector, () => deps.target(first.id), { stream, oneShot, signal: ac.signal })) {
        if (ac.signal.aborted) break;
        c.res.write(JSON.stringify(frame) + '\n');
      }
    } catch (err) {
      // The container was removed while streaming: Docker just ends the stream.
      if (!(err instanceof NotFound)) throw err;
    }
    c.res.end();
  });
}
