/**
 * Docker's stdcopy framing for non-tty attach, logs and exec streams: each
 * frame is an 8-byte header (stream type, 3 zero bytes, big-endian uint32
 * payload size) followed by the payload. Stream 0 is stdin, 1 stdout, 2
 * stderr, 3 a system error the daemon reports in-band.
 *
 *   const d = new StdcopyDemuxer((stream, data) => (stream === 2 ? err : out).write(data));
 *   sock.on('data', (b) => d.push(b));
 */
export type StdStream = 0 | 1 | 2 | 3;

export const STDIN: StdStream = 0;
export const STDOUT: StdStream = 1;
export const STDERR: StdStream = 2;
export const SYSERR: StdStream = 3;

/** Builds one frame; used by tests and fake daemons. */
export function encodeFrame(stream: StdStream, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

/**
 * Incremental decoder: frames may be split across or packed into chunks.
 * With `coalesce`, consecutive frames of one stream within a chunk arrive as
 * one payload: `logs` of 200,000 lines is then a few hundred writes to
 * stdout instead of 200,000 (which cost the CLI seconds).
 */
export class StdcopyDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: StdStream, payload: Buffer) => void, private readonly opts: { coalesce?: boolean } = {}) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let run: Buffer[] = [];
    let runStream = -1;
    const flush = () => {
      if (run.length) this.onFrame(runStream as StdStream, run.length === 1 ? run[0] : Buffer.concat(run));
      run = [];
    };
    while (this.pending.length >= 8) {
      const stream = this.pending[0];
      if (stream > 3) {
        flush();
        throw new Error(`Unrecognized input header: ${stream}`);
      }
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const payload = this.pending.subarray(8, 8 + size);
      this.pending = this.pending.subarray(8 + size);
      if (!this.opts.coalesce) {
        this.onFrame(stream as StdStream, payload);
        continue;
      }
      if (stream !== runStream) flush();
      runStream = stream;
      run.push(payload);
    }
    flush();
  }

  /** Bytes of an incomplete frame still held (non-zero at end of stream means truncation). */
  get buffered(): number {
    return this.pending.length;
  }
}
