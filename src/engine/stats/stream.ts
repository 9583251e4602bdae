import { setTimeout as sleep } from 'node:timers/promises';
import type { StatsCollector, StatsTarget } from './collect.js';
import type { StatsJSON } from './types.js';

export interface StatsStreamOptions {
  /** One frame per interval until aborted (`stream=1`, the default). */
  stream: boolean;
  /** With stream off: answer from a single read, precpu empty (`one-shot=1`). */
  oneShot?: boolean;
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * Docker's stats frames for a container. Streaming yields a frame per second
 * (the first with empty precpu, each later one carrying the previous read as
 * precpu/preread, which the CPU % needs). Not streaming reads twice a second
 * apart so the one frame has precpu filled — unless `oneShot` — and a stopped
 * container gets Docker's empty frame. `target()` is asked before every read,
 * so a restarted container is followed to its new pid.
 *
 *   for await (const s of statsFrames(collector, () => lookup(id), { stream: false })) res.end(JSON.stringify(s));
 */
export async function* statsFrames(collector: StatsCollector, target: () => StatsTarget, opts: StatsStreamOptions): AsyncGenerator<StatsJSON> {
  const interval = opts.intervalMs ?? 1000;
  if (!opts.stream) {
    const t = target();
    const first = await collector.frame(t);
    if (opts.oneShot || !t.pid) {
      yield first;
      return;
    }
    await sleep(interval, undefined, { signal: opts.signal });
    yield await collector.frame(target(), first);
    return;
  }
  let prev: StatsJSON | undefined;
  while (!opts.signal?.aborted) {
    const t = target();
    // Docker's stream sends nothing while a container is not running.
    if (t.pid) {
      const cur = await collector.frame(t, prev);
      prev = cur;
      yield cur;
    } else {
      prev = undefined;
    }
    try {
      await sleep(interval, undefined, { signal: opts.signal });
    } catch {
      return;
    }
  }
}
