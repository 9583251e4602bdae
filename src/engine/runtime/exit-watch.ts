import { readFileSync, watch, promises as fs, type FSWatcher } from 'node:fs';
import * as path from 'node:path';

/** How a container ended, from the files conmon leaves behind. */
export interface ExitStatus {
  /** The process's exit code, 128+n when killed by signal n. */
  exitCode: number;
  oomKilled: boolean;
  finishedAt: Date;
}

/**
 * Waits for containers to exit by watching conmon's exit directory (one
 * inotify watch for all containers, no polling of files). A waiter is also
 * released when its conmon dies without writing an exit file (e.g. killed),
 * which one slow liveness sweep over all waiters notices (with 50 containers
 * running, a timer and two file reads per container every second were most
 * of an idle daemon's work).
 *
 *   const w = new ExitWatcher('/run/berth/exits');
 *   const status = await w.wait(id, () => conmonAlive(id), persistDir);
 */
export class ExitWatcher {
  private watcher?: FSWatcher;
  private waiters = new Map<string, Set<() => void>>();
  /** Per waited-for container, whether its monitor still runs. */
  private liveness = new Map<string, () => boolean>();
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly dir: string, private readonly livenessMs = 1000) {}

  /** The exit status if the container has exited, else undefined. */
  async read(id: string, persistDir: string): Promise<ExitStatus | undefined> {
    const file = path.join(this.dir, id);
    let text: string;
    let st;
    try {
      [text, st] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
    } catch (err: any) {
      if (err?.code === 'ENOENT') return undefined;
      throw err;
    }
    const exitCode = Number.parseInt(text.trim(), 10);
    if (!Number.isFinite(exitCode)) return undefined;
    const oomKilled = await fs.access(path.join(persistDir, 'oom')).then(() => true, () => false);
    return { exitCode, oomKilled, finishedAt: st.mtime };
  }

  /**
   * Resolves with the exit status once `id` has exited. `alive` says whether
   * something (conmon) can still write the exit file; when it turns false
   * without a file, resolves with exit code -1 so nobody waits forever.
   */
  async wait(id: string, persistDir: string, alive: () => boolean, signal?: AbortSignal): Promise<ExitStatus> {
    this.ensureWatching();
    this.ensureSweeping();
    for (;;) {
      this.liveness.set(id, alive);
      const ready = new Promise<void>((resolve) => {
        let set = this.waiters.get(id);
        if (!set) this.waiters.set(id, (set = new Set()));
        const wake = () => { set!.delete(wake); signal?.removeEventListener('abort', wake); resolve(); };
        set.add(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
      const status = await this.read(id, persistDir);
      if (status) { this.wakeAll(id); return status; }
      if (signal?.aborted) { this.wakeAll(id); throw signal.reason ?? new Error('aborted'); }
      if (!alive()) {
        const late = await this.read(id, persistDir);
        this.wakeAll(id);
        return late ?? { exitCode: -1, oomKilled: false, finishedAt: new Date() };
      }
      await ready;
    }
  }

  /** Stops watching (daemon shutdown, tests). */
  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private wakeAll(id: string): void {
    const set = this.waiters.get(id);
    if (!set) return;
    for (const w of [...set]) w();
    if (set.size === 0) {
      this.waiters.delete(id);
      this.liveness.delete(id);
    }
  }

  /** Wakes the waiters of containers whose monitor died (they then read the exit file, or give up). */
  private ensureSweeping(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => {
      if (!this.waiters.size) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
        return;
      }
      for (const id of [...this.waiters.keys()]) if (!(this.liveness.get(id)?.() ?? false)) this.wakeAll(id);
    }, this.livenessMs);
    // Not unref'd: like any pending wait, it keeps a process that only waits for exits alive (it stops with the last waiter).
  }

  private ensureWatching(): void {
    if (this.watcher) return;
    this.watcher = watch(this.dir, { persistent: false }, (_event, name) => {
      if (name) this.wakeAll(name.toString());
      else for (const id of [...this.waiters.keys()]) this.wakeAll(id);
    });
    this.watcher.on('error', () => { this.watcher = undefined; });
  }
}

/**
 * Whether a process is alive: exists and is not a zombie. The zombie check
 * matters because a daemonized conmon is reaped by PID 1, which on some hosts
 * takes seconds; until then signal 0 still succeeds.
 */
export function processAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
