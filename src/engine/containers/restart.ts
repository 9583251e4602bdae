import type { ContainerRecord } from './record.js';

/**
 * Restart policies as Docker applies them: `always` and `unless-stopped`
 * restart after any exit, `on-failure[:N]` after a non-zero exit (at most N
 * times), never after a stop or kill by the user. The delay starts at 100 ms
 * and doubles with each restart, back to 100 ms once a run lasted 10 s.
 */
export class RestartManager {
  private timers = new Map<string, NodeJS.Timeout>();
  private delays = new Map<string, number>();

  constructor(private restart: (id: string) => Promise<void>) {}

  shouldRestart(rec: ContainerRecord, ranForMs: number): boolean {
    if (rec.ManuallyStopped) return false;
    const p = rec.HostConfig.RestartPolicy;
    switch (p?.Name) {
      case 'always':
      case 'unless-stopped':
        return true;
      case 'on-failure': {
        if (rec.State.ExitCode === 0) return false;
        const max = p.MaximumRetryCount ?? 0;
        void ranForMs;
        return max === 0 || rec.RestartCount < max;
      }
      default:
        return false;
    }
  }

  schedule(rec: ContainerRecord, ranForMs: number): void {
    this.cancel(rec.Id);
    let delay = this.delays.get(rec.Id) ?? 50;
    delay = ranForMs >= 10_000 ? 100 : Math.min(delay * 2, 60_000);
    this.delays.set(rec.Id, delay);
    const t = setTimeout(() => {
      this.timers.delete(rec.Id);
      void this.restart(rec.Id);
    }, delay);
    t.unref();
    this.timers.set(rec.Id, t);
  }

  cancel(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }
}
