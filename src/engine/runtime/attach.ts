import { openSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type { SeqpacketSocket as SeqpacketSocketType } from 'node-unix-socket';

const require = createRequire(import.meta.url);
const { SeqpacketSocket } = require('node-unix-socket') as typeof import('node-unix-socket');

/** A client's view of a container's (or exec's) stdio through conmon. */
export interface AttachStreams {
  /** Everything with a terminal; the process's stdout otherwise. */
  stdout: PassThrough;
  /** Empty with a terminal. */
  stderr: PassThrough;
  /** Bytes written here reach the process's stdin (if conmon was started with -i). Ending it closes our half. */
  stdin: Writable;
  /** Disconnects without affecting the process. */
  close(): void;
  /** Resolves when conmon closes the connection (the process has exited). */
  closed: Promise<void>;
}

// conmon tags each packet it sends with the stream in the first byte.
const STDOUT_PIPE = 2;
const STDERR_PIPE = 3;
// conmon reads at most 32 KiB per packet; stay well under it.
const MAX_PACKET = 8192;
const SUN_PATH_MAX = 107;

/**
 * Connects to conmon's attach socket (SOCK_SEQPACKET). Paths longer than a
 * sockaddr_un allows are reached through /proc/self/fd of their directory.
 *
 *   const a = await connectAttach('/run/berth/containers/<id>/attach');
 *   a.stdout.pipe(process.stdout); a.stdin.end('input\n');
 */
export function connectAttach(socketPath: string): Promise<AttachStreams> {
  return new Promise((resolve, reject) => {
    const sock: SeqpacketSocketType = new SeqpacketSocket();
    let dirFd: number | undefined;
    let target = socketPath;
    if (Buffer.byteLength(socketPath) > SUN_PATH_MAX) {
      dirFd = openSync(path.dirname(socketPath), 'r');
      target = `/proc/self/fd/${dirFd}/${path.basename(socketPath)}`;
    }
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let closedResolve!: () => void;
    const closed = new Promise<void>((r) => (closedResolve = r));
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      if (err) {
        stdout.destroy(err);
        stderr.destroy(err);
      } else {
        stdout.end();
        stderr.end();
      }
      closedResolve();
    };
    sock.on('data', (buf: Buffer) => {
      if (buf.length < 1) return;
      const body = buf.subarray(1);
      if (buf[0] === STDERR_PIPE) stderr.write(body);
      else if (buf[0] === STDOUT_PIPE) stdout.write(body);
    });
    sock.on('end', () => { finish(); sock.destroy(); });
    sock.on('close', () => finish());
    let connected = false;
    sock.on('error', (err: Error) => {
      if (!connected) reject(err);
      finish(err);
    });
    const stdin = new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (done) return cb();
        let off = 0;
        const next = () => {
          if (off >= chunk.length) return cb();
          const end = Math.min(off + MAX_PACKET, chunk.length);
          const part = chunk.subarray(off, end);
          off = end;
          sock.write(part, 0, part.length, next);
        };
        next();
      },
      final(cb) {
        if (!done) sock.end(() => cb());
        else cb();
      },
    });
    try {
      sock.connect(target, () => {
        connected = true;
        if (dirFd !== undefined) closeSync(dirFd);
        resolve({ stdout, stderr, stdin, closed, close: () => { finish(); sock.destroy(); } });
      });
    } catch (err) {
      if (dirFd !== undefined) closeSync(dirFd);
      reject(err);
    }
  });
}
