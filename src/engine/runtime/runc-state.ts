import { constants as fsc, promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Two runc commands done without spawning runc, from the state runc keeps
 * under its root (runc 1.x layout). Each runc spawn costs 20–60 ms of CPU
 * here; a `run --rm` spent two of them on `start` and `delete`, and an
 * `rm -f` of 50 containers fifty `delete`s competing for two cores.
 *
 * Both take the fast path only when the state is exactly what runc itself
 * would act on the same way, and say so with their result; on `false` the
 * caller runs the real command, which also reports errors properly.
 *
 *   if (!(await startViaExecFifo(root, id))) await runc(['start', id]);
 *   if (!(await deleteStopped(root, id))) await runc(['delete', id]);
 */

/** The part of runc's `state.json` used here. */
interface RuncStateFile {
  init_process_pid: number;
  init_process_start: number;
  cgroup_paths?: Record<string, string>;
  config?: {
    namespaces?: { type: string; path?: string }[];
    hooks?: { poststop?: unknown[] } | null;
  };
}

/**
 * `runc start`: a created container's init waits, blocked opening
 * `exec.fifo` for writing, until someone opens it for reading; then it
 * writes one byte and execs the user process, which closes its end. runc
 * start reads to that end and unlinks the fifo (so `runc state` says
 * running). We do the same: opened non-blocking so a dead init cannot hang
 * us, then read until end of file.
 */
export async function startViaExecFifo(root: string, id: string, timeoutMs = 10_000): Promise<boolean> {
  const fifo = path.join(root, id, 'exec.fifo');
  const st = readState(root, id);
  if (!st) return false;
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(fifo, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch {
    return false; // no fifo: not in `created` state; runc says why
  }
  const buf = Buffer.alloc(16);
  let got = 0;
  const deadline = Date.now() + timeoutMs;
  try {
    for (let spins = 0; ; spins++) {
      // Liveness before the read: a short-lived command can open, write, exec
      // and exit between a read that found nothing and a check after it, and
      // its byte would then sit unread in the fifo.
      const wasAlive = initAlive(st);
      let n = -1;
      try {
        ({ bytesRead: n } = await fh.read(buf, 0, buf.length, null));
      } catch (err: any) {
        if (err?.code !== 'EAGAIN') return false;
      }
      if (n > 0) got += n;
      // End of file after the byte: the user process has been exec'd (its end of the fifo was close-on-exec).
      else if (n === 0 && got > 0) break;
      // Nothing to read from an init that was already gone: it never got as far as writing.
      else if (!wasAlive) return false;
      if (Date.now() > deadline) return false;
      await new Promise((r) => (spins < 50 ? setImmediate(r) : setTimeout(r, 1)));
    }
  } finally {
    await fh.close();
  }
  await fs.rm(fifo, { force: true });
  return true;
}

/**
 * `runc delete` of a stopped container: remove its cgroups and its state
 * directory. Only when runc would do just that: the init is gone, it had its
 * own PID namespace (so nothing else of it survives the init) and no
 * poststop hooks to run.
 */
export async function deleteStopped(root: string, id: string): Promise<boolean> {
  const st = readState(root, id);
  if (!st || initAlive(st)) return false;
  const ns = st.config?.namespaces ?? [];
  if (!ns.some((n) => n.type === 'NEWPID' && !n.path)) return false;
  if (st.config?.hooks?.poststop?.length) return false;
  for (const dir of new Set(Object.values(st.cgroup_paths ?? {}))) {
    if (!(await removeCgroup(dir))) return false;
  }
  await fs.rm(path.join(root, id), { recursive: true, force: true });
  return true;
}

function readState(root: string, id: string): RuncStateFile | undefined {
  try {
    const st = JSON.parse(readFileSync(path.join(root, id, 'state.json'), 'utf8')) as RuncStateFile;
    return st.init_process_pid > 0 ? st : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the container's init still runs: its pid exists with the start time runc recorded (not a reused pid), not a zombie. */
function initAlive(st: RuncStateFile): boolean {
  try {
    const stat = readFileSync(`/proc/${st.init_process_pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state is the 3rd of stat(5), start time the 22nd.
    return fields[0] !== 'Z' && fields[0] !== 'X' && Number(fields[19]) === st.init_process_start;
  } catch {
    return false;
  }
}

/** rmdir of a cgroup; one whose last tasks are still being torn down gets a few retries. */
async function removeCgroup(dir: string): Promise<boolean> {
  for (let i = 0; i < 5; i++) {
    try {
      await fs.rmdir(dir);
      return true;
    } catch (err: any) {
      if (err?.code === 'ENOENT') return true;
      if (err?.code !== 'EBUSY') return false;
      await new Promise((r) => setTimeout(r, 5 * (i + 1)));
    }
  }
  return false;
}
