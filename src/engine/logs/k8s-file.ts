import { promises as fs, watch } from 'node:fs';
import type { LogEntry, LogQuery } from '../containers/ports.js';

/**
 * Reads a container log in the k8s-file format conmon writes:
 *
 *   2026-11-27T19:30:00.123456789+00:00 stdout F a full line
 *   2026-11-27T19:30:00.123456789+00:00 stderr P a partial li
 *
 * `F` ends a line, `P` is a piece of a longer one (joined here). Entries
 * come out in file order with their newline, filtered by stream and time,
 * the last `tail` of them, and with `follow` keep coming until the promise
 * settles (the container exited) or the signal aborts.
 *
 *   for await (const e of readLogs(path, { stdout: true, stderr: true, tail: 10 })) out.write(e.line);
 */
export async function* readLogs(file: string, q: LogQuery): AsyncGenerator<LogEntry> {
  const parser = new LogParser(q);
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (err: any) {
    if (err?.code !== 'ENOENT' || !q.follow) return;
    // The container has not written anything yet: wait for the file.
    await waitFor(file, q);
    try { fh = await fs.open(file, 'r'); } catch { return; }
  }
  try {
    let pos = 0;
    const buf = Buffer.allocUnsafe(1 << 20);
    // Catch-up: everything already in the file.
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      parser.push(buf.subarray(0, bytesRead));
    }
    const backlog = parser.drain(q.tail);
    for (const e of backlog) yield e;
    if (!q.follow) return;
    let done = false;
    void q.follow.finally(() => { done = true; });
    const waker = new Waker(file, q.signal);
    try {
      while (!q.signal?.aborted) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead > 0) {
          pos += bytesRead;
          parser.push(buf.subarray(0, bytesRead));
          for (const e of parser.drain()) yield e;
          continue;
        }
        // Nothing new: stop once the container is gone (after one last read above).
        if (done) {
          const { bytesRead: more } = await fh.read(buf, 0, buf.length, pos);
          if (more === 0) break;
          pos += more;
          parser.push(buf.subarray(0, more));
          for (const e of parser.drain()) yield e;
          continue;
        }
        await Promise.race([waker.next(250), q.follow.then(() => undefined, () => undefined)]);
      }
    } finally {
      waker.close();
    }
  } finally {
    await fh.close();
  }
}

/** Splits log bytes into entries, joining partial lines and applying the query's filters. */
class LogParser {
  private rest: Buffer = Buffer.alloc(0);
  private partial: Buffer[] = [];
  private ready: LogEntry[] = [];

  constructor(private q: LogQuery) {}

  push(chunk: Buffer): void {
    const data = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const nl = data.indexOf(10, start);
      if (nl < 0) break;
      this.line(data.subarray(start, nl));
      start = nl + 1;
    }
    this.rest = Buffer.from(data.subarray(start));
  }

  private line(l: Buffer): void {
    const s1 = l.indexOf(32);
    const s2 = s1 < 0 ? -1 : l.indexOf(32, s1 + 1);
    const s3 = s2 < 0 ? -1 : l.indexOf(32, s2 + 1);
    if (s3 < 0) return; // not an entry (torn write at a crash): skip it
    const stream = l.toString('latin1', s1 + 1, s2);
    const tag = l[s2 + 1];
    const text = l.subarray(s3 + 1);
    if (tag === 0x50 /* P */) {
      this.partial.push(Buffer.from(text));
      return;
    }
    const body = this.partial.length ? Buffer.concat([...this.partial, text, nlBuf]) : Buffer.concat([text, nlBuf]);
    this.partial = [];
    if (stream === 'stdout' ? !this.q.stdout : stream === 'stderr' ? !this.q.stderr : true) return;
    const time = parseTime(l.toString('latin1', 0, s1));
    if (this.q.since && time < this.q.since) return;
    if (this.q.until && time > this.q.until) return;
    this.ready.push({ stream: stream as 'stdout' | 'stderr', time, line: body });
  }

  drain(tail?: number): LogEntry[] {
    let out = this.ready;
    this.ready = [];
    if (tail !== undefined) out = tail === 0 ? [] : out.slice(-tail);
    return out;
  }
}

const nlBuf = Buffer.from('\n');

/** RFC 3339 with nanoseconds and an offset; Date keeps milliseconds. */
function parseTime(s: string): Date {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return new Date(0);
  const ms = m[2] ? m[2].slice(0, 3).padEnd(3, '0') : '000';
  return new Date(`${m[1]}.${ms}${m[3]}`);
}

/** Wakes a follower when the log file changes (inotify), or after a timeout as a safety net. */
class Waker {
  private watcher?: ReturnType<typeof watch>;
  private wake?: () => void;

  constructor(file: string, signal?: AbortSignal) {
    try {
      this.watcher = watch(file, () => this.wake?.());
      this.watcher.on('error', () => undefined);
    } catch {
      // fall back to the timeout alone
    }
    signal?.addEventListener('abort', () => this.wake?.(), { once: true });
  }

  next(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = undefined; resolve(); }, timeoutMs);
      this.wake = () => { clearTimeout(t); this.wake = undefined; resolve(); };
    });
  }

  close(): void {
    this.watcher?.close();
  }
}

async function waitFor(file: string, q: LogQuery): Promise<void> {
  let done = false;
  void q.follow?.finally(() => { done = true; });
  while (!done && !q.signal?.aborted) {
    if (await fs.access(file).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
