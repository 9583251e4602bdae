import { readFileSync } from 'node:fs';

/**
 * Polls `cond` every 50 ms until it holds; throws `timed out waiting for
 * <what>` after `ms`. For state the daemon reaches after it answered
 * (cleanup behind rm, mounts made ahead of start).
 *
 *   await eventually('the mount to go', () => mountsUnder(root).length === 0);
 */
export async function eventually(what: string, cond: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** This process's mountinfo lines whose mount point is `root` or below it. */
export function mountsUnder(root: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => {
    const point = l.split(' ')[4];
    return point !== undefined && (point === root || point.startsWith(root + '/'));
  });
}
