import type { Duplex, Readable, Writable } from 'node:stream';
import type { ApiContext } from './router.js';
import { atLeast } from './version.js';

/** Stream numbers of Docker's stdcopy framing. */
export const STDIN = 0, STDOUT = 1, STDERR = 2;

/**
 * Frames `payload` for a multiplexed (non-tty) stream: an 8-byte header
 * [stream, 0, 0, 0, size as big-endian uint32] then the bytes.
 */
export function frame(stream: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + payload.length);
  out.writeUInt32BE(0, 0);
  out[0] = stream;
  out.writeUInt32BE(payload.length, 4);
  payload.copy(out, 8);
  return out;
}

export function streamContentType(c: ApiContext, tty: boolean): string {
  if (!tty && atLeast(c.apiVersion, '1.42')) return 'application/vnd.docker.multiplexed-stream';
  return 'application/vnd.docker.raw-stream';
}

/**
 * Takes over the connection for a bidirectional stream (attach, exec start).
 * Clients that asked to upgrade get `101 UPGRADED`; others get a raw `200 OK`
 * on the same socket, as Docker does, after which the socket carries the
 * stream in both directions.
 */
export function hijack(c: ApiContext, contentType: string): Duplex {
  const socket = (c.upgradeSocket ?? c.req.socket) as Duplex & { setNoDelay?: (b: boolean) => void; setTimeout?: (ms: number) => void };
  socket.setNoDelay?.(true);
  socket.setTimeout?.(0);
  if (c.upgradeSocket) {
    socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    if (c.upgradeHead && c.upgradeHead.length) socket.unshift(c.upgradeHead);
  } else {
    // Detach the socket from Node's HTTP machinery so it writes no headers of its own.
    c.req.socket.removeAllListeners('timeout');
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\n\r\n`);
  }
  return socket;
}

/** Writes to a response/socket and waits for drain when the peer is slow. */
export async function writeWithBackpressure(out: Writable, chunk: Buffer): Promise<void> {
  if (!out.write(chunk)) {
    await new Promise<void>((resolve) => {
      const done = () => { out.off('drain', done); out.off('close', done); resolve(); };
      out.once('drain', done);
      out.once('close', done);
    });
  }
}

/** Pipes `src` into `dst` framed as stream `n` (no framing when `n` is undefined). */
export function pumpFramed(src: Readable, dst: Writable, n: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    src.on('data', (chunk: Buffer) => {
      if (dst.writableEnded || (dst as any).destroyed) return;
      const ok = dst.write(n === undefined ? chunk : frame(n, chunk));
      if (!ok) {
        src.pause();
        dst.once('drain', () => src.resume());
      }
    });
    src.once('end', resolve);
    src.once('close', resolve);
    src.once('error', () => resolve());
  });
}
