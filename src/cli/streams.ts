import { spawnSync } from 'node:child_process';
import type { Socket } from 'node:net';
import { StdcopyDemuxer, type Hijacked } from '../client/index.js';
import { UsageError } from './options/parse-values.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** "ctrl-p,ctrl-q" → [0x10, 0x11]; single characters stand for themselves. */
export function parseDetachKeys(spec: string): number[] {
  return spec.split(',').map((k) => {
    const m = /^ctrl-(.)$/i.exec(k);
    if (m) {
      const c = m[1];
      if (/[a-z]/i.test(c)) return c.toLowerCase().charCodeAt(0) & 0x1f;
      const specials: Record<string, number> = { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 };
      if (c in specials) return specials[c];
    } else if (k.length === 1) return k.charCodeAt(0);
    throw new UsageError(`Invalid detach keys (${k}) provided`);
  });
}

/**
 * Watches an input byte stream for the detach sequence. Bytes that might
 * begin the sequence are held back until it is complete (detach) or broken
 * (then they are passed on), so a lone Ctrl-P still reaches the container.
 */
export class DetachWatcher {
  private held: number[] = [];
  constructor(private readonly keys: number[]) {}

  /** Returns the bytes to forward, and whether the sequence completed. */
  feed(chunk: Buffer): { forward: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (this.keys.length && b === this.keys[this.held.length]) {
        this.held.push(b);
        if (this.held.length === this.keys.length) return { forward: Buffer.from(out), detach: true };
        continue;
      }
      out.push(...this.held);
      this.held = [];
      if (this.keys.length && b === this.keys[0]) this.held.push(b);
      else out.push(b);
    }
    return { forward: Buffer.from(out), detach: false };
  }
}

export interface PumpOptions {
  tty: boolean;
  /** Forward our stdin to the container (half-closing at EOF). */
  stdin: boolean;
  detachKeys?: string;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  input?: NodeJS.ReadableStream;
}

/**
 * Connects a hijacked attach/exec connection to our stdio until the daemon
 * ends the output. Non-tty output is stdcopy framed and split to stdout and
 * stderr; tty output is raw. At stdin EOF the write side is half-closed so the
 * container sees EOF while its output keeps flowing. Resolves `detached` when
 * the user typed the detach keys.
 */
export function pumpStreams(h: Hijacked, o: PumpOptions): Promise<'eof' | 'detached'> {
  const stdout = o.stdout ?? process.stdout;
  const stderr = o.stderr ?? process.stderr;
  // process.stdin is built on first touch (~5 ms of fs stream code): only when it is read.
  const input = o.stdin ? o.input ?? process.stdin : undefined;
  const sock: Socket = h.socket;
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (how: 'eof' | 'detached') => {
      if (done) return;
      done = true;
      input?.removeListener('data', onInput);
      input?.removeListener('end', onInputEnd);
      input?.pause();
      if (how === 'detached') sock.destroy();
      resolve(how);
    };
    const demux = o.tty ? undefined : new StdcopyDemuxer((stream, payload) => (stream === 1 ? stdout : stderr).write(payload));
    const onData = (chunk: Buffer) => {
      try {
        if (demux) demux.push(chunk);
        else stdout.write(chunk);
      } catch (e) {
        reject(e);
      }
    };
    if (h.head.length) onData(h.head);
    sock.on('data', onData);
    sock.resume();
    sock.on('end', () => finish('eof'));
    sock.on('close', () => finish('eof'));
    // A stream with no output at all may have ended before we got here
    // (`run busybox true`): its 'end' and 'close' are already gone.
    if (sock.readableEnded || sock.destroyed) setImmediate(() => finish('eof'));
    sock.on('error', (e) => (done ? undefined : (e as NodeJS.ErrnoException).code === 'ECONNRESET' ? finish('eof') : reject(e)));

    const watcher = o.stdin ? new DetachWatcher(parseDetachKeys(o.detachKeys || DEFAULT_DETACH_KEYS)) : undefined;
    function onInput(chunk: Buffer | string) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const { forward, detach } = watcher!.feed(buf);
      if (forward.length && !sock.destroyed) sock.write(forward);
      if (detach) finish('detached');
    }
    function onInputEnd() {
      if (!sock.destroyed) sock.end();
    }
    if (input) {
      input.on('data', onInput);
      input.on('end', onInputEnd);
      input.resume();
    }
  });
}

/**
 * Puts the user's terminal in raw mode for a `-t` session and returns the
 * function that restores it (also run on process exit, so a crash never leaves
 * the terminal raw).
 */
export function enterRawMode(): () => void {
  const stdin = process.stdin as NodeJS.ReadStream;
  if (!stdin.isTTY) return () => undefined;
  stdin.setRawMode(true);
  stopOutputPostProcessing();
  const restore = () => {
    try { stdin.setRawMode(false); } catch { /* terminal gone */ }
  };
  process.once('exit', restore);
  return restore;
}

/**
 * libuv's raw mode keeps ONLCR, so the container's pty output (already `\r\n`)
 * would reach the screen as `\r\r\n`; Docker's raw mode (cfmakeraw) turns all
 * output processing off. Node has no termios call for that, hence `stty`.
 * setRawMode(false) (and libuv at exit) restores the saved settings, this too.
 */
function stopOutputPostProcessing(): void {
  spawnSync('stty', ['-opost'], { stdio: [0, 'ignore', 'ignore'] });
}

/** Current terminal size, or undefined when stdout is not a terminal. */
export function terminalSize(): { h: number; w: number } | undefined {
  const out = process.stdout;
  if (!out.isTTY || !out.rows || !out.columns) return undefined;
  return { h: out.rows, w: out.columns };
}

/** Calls `resize` now and on every SIGWINCH until the returned function is called. */
export function followTerminalSize(resize: (size: { h: number; w: number }) => Promise<unknown>): () => void {
  const send = () => {
    const s = terminalSize();
    if (s) resize(s).catch(() => undefined);
  };
  send();
  process.stdout.on('resize', send);
  return () => process.stdout.removeListener('resize', send);
}

const PROXIED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/** Forwards signals we receive to the container (`--sig-proxy`); returns the uninstaller. */
export function proxySignals(send: (signal: string) => Promise<unknown>): () => void {
  const handlers = PROXIED_SIGNALS.filter((s) => s !== 'SIGWINCH').map((s) => {
    const h = () => void send(s).catch(() => undefined);
    process.on(s, h);
    return [s, h] as const;
  });
  return () => handlers.forEach(([s, h]) => process.removeListener(s, h));
}
