export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/**
 * Callers waiting for a container to reach a state (`wait`, stop, remove).
 * Registration is synchronous, so `docker run` can wait for `next-exit`
 * before it starts the container and never miss a fast exit.
 *
 *   const exited = waiters.add(id, 'next-exit');
 *   waiters.resolve(id, ['next-exit', 'not-running'], 0);   // on exit
 */
export class Waiters {
  private byId = new Map<string, { cond: WaitCondition; resolve: (code: number) => void }[]>();

  add(id: string, cond: WaitCondition): Promise<number> {
    return new Promise((resolve) => {
      const list = this.byId.get(id) ?? [];
      list.push({ cond, resolve });
      this.byId.set(id, list);
    });
  }

  /** Releases every waiter of `id` whose condition is among `conds`, with exit code `code`. */
  resolve(id: string, conds: WaitCondition[], code: number): void {
    const list = this.byId.get(id);
    if (!list) return;
    const keep = list.filter((w) => {
      if (!conds.includes(w.cond)) return true;
      w.resolve(code);
      return false;
    });
    if (keep.length) this.byId.set(id, keep);
    else this.byId.delete(id);
  }
}

/** Docker's exit codes for a container whose command could not be started. */
export function startErrorExitCode(msg: string): number {
  if (/executable file not found|no such file or directory|not found in \$PATH/i.test(msg)) return 127;
  if (/permission denied|is a directory|exec format error/i.test(msg)) return 126;
  return 128;
}

/** True if `p` settled within `ms`. */
export async function raceTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
