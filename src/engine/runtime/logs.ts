import { watch, promises as fs } from 'node:fs';

/** One message of a container's output, partial lines already joined. */
export interface LogEntry {
  stream: 'stdout' | 'stderr';
  /**
   * conmon's timestamp (RFC 3339, nanoseconds, numeric offset). Formatting
   * is left to `dockerTime()` so that callers not printing timestamps
   * (most) pay nothing for it.
   */
  time: string;
  /** The bytes, with their trailing newline (absent only for a final unterminated line). */
  line: Buffer;
}

export interface LogReadOptions {
  stdout?: boolean;
  stderr?: boolean;
  /** Only the last N messages (before following). */
  tail?: number;
  /** Unix seconds (fractions allowed): skip messages before. */
  since?: number;
  /** Unix seconds: stop at messages after. */
  until?: number;
  /** Keep reading new output until `stop` settles (the container exited) or `signal` aborts. */
  follow?: boolean;
  stop?: Promise<unknown>;
  signal?: AbortSignal;
}

const CHUNK = 1 << 20;
const NL = 0x0a;
const SP = 0x20;

/**
 * Reads a k8s-file log as conmon writes it, one record per line:
 * `<RFC3339Nano> stdout|stderr F|P <text>` (P: a partial line continued by
 * the next record of that stream). Yields batches of messages so that a log
 * of hundreds of thousands of lines streams without per-line overhead.
 *
 *   for await (const batch of readLogs(path, { tail: 10, follow: true, stop: exited }))
 *     for (const e of batch) res.write(e.line);
 */
export async function* readLogs(file: string, o: LogReadOptions = {}): AsyncGenerator<LogEntry[]> {
  const want = { stdout: o.stdout ?? true, stderr: o.stderr ?? true };
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (err: any) {
    if (err?.code !== 'ENOENT') throw err;
    return;
  }
  try {
    const parser = new K8sFileParser(want, o.since, o.until);
    let pos = o.tail !== undefined && o.tail >= 0 ? await tailOffset(fh, o.tail, want) : 0;
    const drain = async (): Promise<LogEntry[] | undefined> => {
      const out: LogEntry[] = [];
      for (;;) {
        // A fresh buffer per read: entries are slices of it, not copies.
        const buf = Buffer.allocUnsafe(CHUNK);
        const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        parser.push(buf.subarray(0, bytesRead), out);
        if (out.length >= 4096) break;
      }
      return out.length ? out : undefined;
    };
    for (;;) {
      const batch = await drain();
      if (!batch) break;
      yield batch;
      if (parser.pastUntil) return;
    }
    if (o.follow && !parser.pastUntil) {
      let wake: () => void = () => {};
      let stopped = false;
      const watcher = watch(file, { persistent: false }, () => wake());
      o.stop?.then(() => { stopped = true; wake(); }, () => { stopped = true; wake(); });
      o.signal?.addEventListener('abort', () => { stopped = true; wake(); }, { once: true });
      try {
        while (!o.signal?.aborted) {
          const changed = new Promise<void>((r) => (wake = r));
          const batch = await drain();
          if (batch) { yield batch; if (parser.pastUntil) return; continue; }
          if (stopped) break;
          await changed;
        }
        // Whatever conmon wrote before the exit.
        let batch;
        while (!o.signal?.aborted && (batch = await drain())) yield batch;
      } finally {
        watcher.close();
      }
    }
    const rest = parser.end();
    if (rest.length) yield rest;
  } finally {
    await fh.close();
  }
}

/** Incremental parser of k8s-file records. */
class K8sFileParser {
  private carry: Buffer | undefined;
  private partial: Record<'stdout' | 'stderr', Buffer[]> = { stdout: [], stderr: [] };
  private partialTime: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  pastUntil = false;

  constructor(private want: { stdout: boolean; stderr: boolean }, private since?: number, private until?: number) {}

  push(chunk: Buffer, out: LogEntry[]): void {
    let data = chunk;
    if (this.carry) {
      data = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    let start = 0;
    for (;;) {
      const nl = data.indexOf(NL, start);
      if (nl < 0) break;
      this.record(data, start, nl, out);
      start = nl + 1;
    }
    if (start < data.length) this.carry = Buffer.from(data.subarray(start));
  }

  /** Flushes partial lines left at the end of the log (output without a final newline). */
  end(): LogEntry[] {
    const out: LogEntry[] = [];
    for (const s of ['stdout', 'stderr'] as const) {
      if (this.partial[s].length) this.emit(new LogRecord(s, Buffer.concat(this.partial[s]), this.partialTime[s]), out);
      this.partial[s] = [];
    }
    return out;
  }

  private record(data: Buffer, start: number, end: number, out: LogEntry[]): void {
    const s1 = data.indexOf(SP, start);
    if (s1 < 0 || s1 > end) return;
    const s2 = data.indexOf(SP, s1 + 1);
    if (s2 < 0 || s2 > end) return;
    const stream = data[s1 + 4] === 0x6f /* 'o' of stdout */ ? 'stdout' : 'stderr';
    if (!this.want[stream]) return;
    const tag = data[s2 + 1];
    if (tag === 0x50 /* P */) {
      if (!this.partial[stream].length) this.partialTime[stream] = data.toString('latin1', start, s1);
      this.partial[stream].push(Buffer.from(data.subarray(Math.min(s2 + 3, end), end)));
      return;
    }
    if (this.partial[stream].length) {
      const line = Buffer.concat([...this.partial[stream], data.subarray(Math.min(s2 + 3, end), end), Buffer.from('\n')]);
      const t = this.partialTime[stream];
      this.partial[stream] = [];
      this.emit(new LogRecord(stream, line, t), out);
    } else {
      this.emit(new LogRecord(stream, data.subarray(Math.min(s2 + 3, end), end + 1), data, start, s1), out);
    }
  }

  private emit(e: LogRecord, out: LogEntry[]): void {
    if (this.since !== undefined || this.until !== undefined) {
      const secs = timeSeconds(e.time);
      if (this.since !== undefined && secs < this.since) return;
      if (this.until !== undefined && secs > this.until) { this.pastUntil = true; return; }
    }
    out.push(e);
  }
}

/**
 * A LogEntry whose time string is cut from the log only when asked for: most
 * readers (logs without -t) never look, and 200,000 strings were the better
 * part of reading a large log.
 */
class LogRecord implements LogEntry {
  private t: string | undefined;
  private src: Buffer | undefined;

  constructor(readonly stream: 'stdout' | 'stderr', readonly line: Buffer, timeOrSource: string | Buffer, private from = 0, private to = 0) {
    if (typeof timeOrSource === 'string') this.t = timeOrSource;
    else this.src = timeOrSource;
  }

  get time(): string {
    return (this.t ??= this.src!.toString('latin1', this.from, this.to));
  }
}

/** File offset from which exactly the last `n` messages of the wanted streams follow. */
async function tailOffset(fh: fs.FileHandle, n: number, want: { stdout: boolean; stderr: boolean }): Promise<number> {
  const size = (await fh.stat()).size;
  if (n === 0) return size;
  let end = size;
  let found = 0;
  let tailBytes: Buffer = Buffer.alloc(0);
  while (end > 0) {
    const start = Math.max(0, end - CHUNK);
    const chunk = Buffer.allocUnsafe(end - start);
    await fh.read(chunk, 0, chunk.length, start);
    tailBytes = Buffer.concat([chunk, tailBytes]);
    // Walk complete lines from the back; line i spans (prevNL, thisNL].
    let lineEnd = tailBytes.length - (tailBytes[tailBytes.length - 1] === NL ? 1 : 0);
    found = 0;
    while (lineEnd > 0) {
      const nl = tailBytes.lastIndexOf(NL, lineEnd - 1);
      // Before the file's first line there is no newline, only the start of the file.
      if (nl < 0 && start > 0) break;
      if (isFullRecord(tailBytes, nl + 1, lineEnd, want) && ++found > n) return start + lineEnd + 1;
      lineEnd = nl;
    }
    if (start === 0) return 0;
    end = start;
  }
  return 0;
}

function isFullRecord(b: Buffer, start: number, end: number, want: { stdout: boolean; stderr: boolean }): boolean {
  const s1 = b.indexOf(SP, start);
  if (s1 < 0 || s1 >= end) return false;
  const s2 = b.indexOf(SP, s1 + 1);
  if (s2 < 0 || s2 >= end) return false;
  const stream = b[s1 + 4] === 0x6f ? 'stdout' : 'stderr';
  return want[stream] && b[s2 + 1] === 0x46; /* F */
}

/** conmon's `2026-11-27T19:37:51.654861786+00:00` → Docker's `2026-11-27T19:37:51.654861786Z`. */
export function dockerTime(t: string): string {
  if (t.endsWith('+00:00')) {
    let e = t.length - 6;
    while (t.charCodeAt(e - 1) === 0x30 /* 0 */) e--;
    if (t.charCodeAt(e - 1) === 0x2e /* . */) e--;
    return t.slice(0, e) + 'Z';
  }
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return t;
  const frac = (m[2] ?? '').replace(/0+$/, '').replace(/^\.$/, '');
  if (m[3] === 'Z' || m[3] === '+00:00') return `${m[1]}${frac}Z`;
  const utc = new Date(Date.parse(`${m[1]}${m[3]}`)).toISOString().slice(0, 19);
  return `${utc}${frac}Z`;
}

/** Seconds since the epoch of a log timestamp, with sub-second precision. */
export function timeSeconds(t: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return NaN;
  return Date.parse(`${m[1]}${m[3]}`) / 1000 + (m[2] ? Number(`0${m[2]}`) : 0);
}
