import type { Writable } from 'node:stream';
import { InvalidArgument } from '../../common/errors.js';
import type { ContainerService } from '../../engine/containers/service.js';
import type { LogEntry } from '../../engine/containers/ports.js';
import type { ApiContext } from '../router.js';
import { frame, hijack, pumpFramed, STDERR, STDOUT, streamContentType } from '../streams.js';

/**
 * Batches small writes into larger ones: a 200,000-line log is one write per
 * 64 KiB instead of one per line, while a following stream still flushes as
 * soon as the event loop is idle.
 */
class BatchWriter {
  private parts: Buffer[] = [];
  private size = 0;
  private scheduled = false;

  constructor(private out: Writable) {}

  async push(b: Buffer): Promise<void> {
    this.parts.push(b);
    this.size += b.length;
    if (this.size >= 64 * 1024) await this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => { this.scheduled = false; void this.flush(); });
    }
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const chunk = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    if (this.out.writableEnded || (this.out as any).destroyed) return;
    if (!this.out.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => { this.out.off('drain', done); this.out.off('close', done); resolve(); };
        this.out.once('drain', done);
        this.out.once('close', done);
      });
    }
  }
}

/**
 * Docker's `logs -t` stamp: UTC, always nine fraction digits
 * (`2026-01-02T03:04:05.678000000Z`), from conmon's RFC 3339 with an offset.
 */
export function logTimestamp(t: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return t;
  const frac = (m[2] ?? '').slice(0, 9).padEnd(9, '0');
  const base = m[3] === 'Z' || m[3] === '+00:00' ? m[1] : new Date(Date.parse(`${m[1]}${m[3]}`)).toISOString().slice(0, 19);
  return `${base}.${frac}Z`;
}

/** Unix seconds with an optional fraction (`1700000000.5`), as clients send since/until. */
function unixParam(name: string, v: string | null): Date | undefined {
  if (v === null || v === '' || v === '0') return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new InvalidArgument(`invalid value for "${name}": ${v}`);
  return new Date(Number(v) * 1000);
}

export async function serveLogs(c: ApiContext, svc: ContainerService): Promise<void> {
  const rec = svc.store.get(c.params.id);
  const stdout = c.flag('stdout');
  const stderr = c.flag('stderr');
  if (!stdout && !stderr) throw new InvalidArgument('Bad parameters: you must choose at least one stream');
  const tailRaw = c.query.get('tail') ?? 'all';
  let tail: number | undefined;
  if (tailRaw !== 'all' && tailRaw !== '') {
    if (!/^-?\d+$/.test(tailRaw)) throw new InvalidArgument(`invalid value for "tail": ${tailRaw}`);
    tail = Number(tailRaw) < 0 ? undefined : Number(tailRaw);
  }
  const since = unixParam('since', c.query.get('since'));
  const until = unixParam('until', c.query.get('until'));
  const timestamps = c.flag('timestamps');
  const tty = !!rec.Config.Tty;
  const ac = new AbortController();
  c.res.on('close', () => ac.abort());
  const entries = svc.logs(rec.Id, { stdout, stderr, tail, since, until, follow: c.flag('follow'), signal: ac.signal });
  c.res.writeHead(200, { 'Content-Type': streamContentType(c, tty) });
  c.res.flushHeaders();
  const out = new BatchWriter(c.res);
  for await (const batch of entries) {
    if (ac.signal.aborted) break;
    await out.push(frameBatch(batch, tty, timestamps));
  }
  await out.flush();
  c.res.end();
}

/**
 * A batch of log messages as the bytes of the response, in one buffer: a
 * frame (or, with a tty, the bare line) per message, with the `-t` stamp if
 * asked. One allocation and copy per batch instead of several per line.
 */
function frameBatch(batch: LogEntry[], tty: boolean, timestamps: boolean): Buffer {
  const stamps = timestamps ? batch.map((e) => logTimestamp(e.time) + ' ') : undefined;
  let size = 0;
  for (let i = 0; i < batch.length; i++) size += (tty ? 0 : 8) + (stamps ? Buffer.byteLength(stamps[i]) : 0) + batch[i].line.length;
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < batch.length; i++) {
    const e = batch[i];
    const len = (stamps ? Buffer.byteLength(stamps[i]) : 0) + e.line.length;
    if (!tty) {
      buf[at] = e.stream === 'stderr' ? STDERR : STDOUT;
      buf[at + 1] = buf[at + 2] = buf[at + 3] = 0;
      buf.writeUInt32BE(len, at + 4);
      at += 8;
    }
    if (stamps) at += buf.write(stamps[i], at, 'latin1');
    at += e.line.copy(buf, at);
  }
  return buf;
}

/** The default detach sequence, ctrl-p ctrl-q. */
const defaultDetachKeys = Buffer.from([16, 17]);

/** Parses `--detach-keys` ("ctrl-p,ctrl-q", "a,ctrl-\\"). */
export function parseDetachKeys(s: string | null): Buffer {
  if (!s) return defaultDetachKeys;
  const out: number[] = [];
  for (const k of s.split(',')) {
    const m = /^ctrl-(.)$/.exec(k);
    if (m) {
      const ch = m[1];
      const code = ch === '@' ? 0 : ch === '[' ? 27 : ch === '\\' ? 28 : ch === ']' ? 29 : ch === '^' ? 30 : ch === '_' ? 31 : ch.toLowerCase().charCodeAt(0) - 96;
      if (code < 0 || code > 31) throw new InvalidArgument(`Invalid detach keys (${s}) provided`);
      out.push(code);
    } else if (k.length === 1) out.push(k.charCodeAt(0));
    else throw new InvalidArgument(`Invalid detach keys (${s}) provided`);
  }
  return Buffer.from(out);
}

/**
 * `POST /containers/{id}/attach`: replays logs if asked, then joins the live
 * stdio. Client stdin is forwarded until the detach keys appear; the stream
 * ends when the container's output ends.
 */
export async function serveAttach(c: ApiContext, svc: ContainerService): Promise<void> {
  const rec = svc.store.get(c.params.id);
  const tty = !!rec.Config.Tty;
  const wantStdin = c.flag('stdin') && !!rec.Config.OpenStdin;
  const wantStdout = c.flag('stdout');
  const wantStderr = c.flag('stderr');
  const detachKeys = parseDetachKeys(c.query.get('detachKeys'));
  const sock = hijack(c, streamContentType(c, tty));
  let closed = false;
  sock.on('close', () => { closed = true; });
  sock.on('error', () => { closed = true; });

  if (c.flag('logs')) {
    for await (const batch of svc.logs(rec.Id, { stdout: wantStdout, stderr: wantStderr })) {
      if (closed) return;
      for (const e of batch) sock.write(tty ? e.line : frame(e.stream === 'stderr' ? STDERR : STDOUT, e.line));
    }
  }
  if (!c.flag('stream')) {
    sock.end();
    return;
  }
  const session = await svc.attach(rec.Id, { stdin: wantStdin });
  if (!session) {
    sock.end();
    return;
  }
  if (closed) {
    session.close();
    return;
  }
  if (wantStdin && session.stdin) {
    const stdin = session.stdin;
    let matched = 0;
    sock.on('data', (chunk: Buffer) => {
      // Scan for the detach sequence; bytes of a partial match are held back.
      let start = 0;
      for (let i = 0; i < chunk.length; i++) {
        if (matched === 0) {
          const next = chunk.indexOf(detachKeys[0], i);
          if (next < 0) break;
          i = next;
        }
        if (chunk[i] === detachKeys[matched]) {
          if (matched === 0 && i > start) stdin.write(chunk.subarray(start, i));
          matched++;
          start = i + 1;
          if (matched === detachKeys.length) {
            session.close();
            sock.end();
            return;
          }
        } else {
          stdin.write(detachKeys.subarray(0, matched));
          matched = 0;
          start = i;
          i--;
        }
      }
      if (matched === 0 && start < chunk.length) stdin.write(chunk.subarray(start));
    });
    sock.on('end', () => {
      if (rec.Config.StdinOnce) stdin.end();
    });
  } else {
    sock.resume(); // discard anything the client sends
  }
  const pumps: Promise<void>[] = [];
  if (wantStdout) pumps.push(pumpFramed(session.stdout, sock, tty ? undefined : STDOUT));
  else session.stdout.resume();
  if (session.stderr) {
    if (wantStderr) pumps.push(pumpFramed(session.stderr, sock, STDERR));
    else session.stderr.resume();
  }
  await Promise.all(pumps);
  session.close();
  if (!closed) sock.end();
}
