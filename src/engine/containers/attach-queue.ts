import type { AttachSession } from './ports.js';

/**
 * Attach requests for containers not started yet. `docker run` attaches
 * before it starts; the sessions are connected between runtime create and
 * start, so not even the first byte of output is lost.
 *
 *   const session = queue.wait(id, { stdin: true });   // in attach
 *   await queue.connect(id, (o) => runtime.attach(id, o)); // in start, after create
 */
export class AttachQueue {
  private byId = new Map<string, { stdin: boolean; resolve: (s: AttachSession) => void; reject: (e: unknown) => void }[]>();

  wait(id: string, opts: { stdin: boolean }): Promise<AttachSession> {
    return new Promise((resolve, reject) => {
      const list = this.byId.get(id) ?? [];
      list.push({ stdin: opts.stdin, resolve, reject });
      this.byId.set(id, list);
    });
  }

  async connect(id: string, attach: (opts: { stdin: boolean }) => Promise<AttachSession>): Promise<void> {
    const list = this.byId.get(id);
    if (!list) return;
    this.byId.delete(id);
    for (const p of list) {
      try {
        p.resolve(await attach({ stdin: p.stdin }));
      } catch (err) {
        p.reject(err);
      }
    }
  }

  /** The start failed: every waiting client gets its error. */
  fail(id: string, err: unknown): void {
    for (const p of this.byId.get(id) ?? []) p.reject(err);
    this.byId.delete(id);
  }
}
