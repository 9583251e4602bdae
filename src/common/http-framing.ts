/**
 * HTTP/1.1 response framing for the places that read a body straight from a
 * socket into one reused buffer instead of through Node's HTTP client (which
 * reads every 64 KiB into fresh memory: on these VMs the page faults of that
 * memory cost more than the data's own handling). Only the framing: the
 * callers own their sockets and errors' wording (`who` names the peer).
 *
 *   const head = parseHead(text, 'the registry');
 *   const body = new BodyDecoder(head, 'the registry');
 *   if (body.feed(chunk, (payload) => sink(payload))) done();
 */

/** A response's status and headers (names lower-cased). */
export interface RawHead {
  status: number;
  headers: Record<string, string>;
}

/** The end of the head in `bytes` (offset of the body), or -1 while it is incomplete. */
export function headEnd(bytes: Buffer): number {
  const i = bytes.indexOf('\r\n\r\n');
  return i < 0 ? -1 : i + 4;
}

/** Parses a status line and header lines (the text before the blank line). */
export function parseHead(text: string, who: string): RawHead {
  const [statusLine, ...lines] = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!m) throw new Error(`not an HTTP answer from ${who}: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(m[1]), headers };
}

/**
 * HTTP/1.1 body framing: chunked, Content-Length, or until the connection
 * closes. `feed` passes the payload bytes on (views into the chunk given)
 * and says when the body is complete; malformed framing throws.
 */
export class BodyDecoder {
  readonly untilClose: boolean;
  private readonly chunked: boolean;
  private left: number;
  /** Chunked state: reading a size line, data, the CRLF after data, or trailers. */
  private state: 'size' | 'data' | 'crlf' | 'trailer' = 'size';
  private line = '';

  constructor(head: RawHead, private readonly who: string, method = 'GET') {
    this.chunked = /\bchunked\b/i.test(head.headers['transfer-encoding'] ?? '');
    const length = head.headers['content-length'];
    const bodiless = method === 'HEAD' || head.status === 204 || head.status === 304;
    if (!this.chunked && length !== undefined && !/^\d+$/.test(length)) throw new Error(`malformed Content-Length from ${who}: ${JSON.stringify(length.slice(0, 40))}`);
    this.left = bodiless ? 0 : length !== undefined ? Number(length) : 0;
    if (bodiless) this.chunked = false;
    this.untilClose = !bodiless && !this.chunked && length === undefined;
  }

  /** Payload bytes still expected, when the length is known (Content-Length). */
  get remaining(): number | undefined {
    return this.chunked || this.untilClose ? undefined : this.left;
  }

  feed(chunk: Buffer, out: (b: Buffer) => void): boolean {
    if (this.untilClose) {
      if (chunk.length) out(chunk);
      return false;
    }
    if (!this.chunked) {
      const n = Math.min(this.left, chunk.length);
      if (n) out(chunk.subarray(0, n));
      this.left -= n;
      return this.left === 0;
    }
    let off = 0;
    while (off < chunk.length) {
      if (this.state === 'data') {
        const n = Math.min(this.left, chunk.length - off);
        out(chunk.subarray(off, off + n));
        off += n;
        this.left -= n;
        if (this.left === 0) this.state = 'crlf';
        continue;
      }
      const nl = chunk.indexOf(0x0a, off);
      const end = nl < 0 ? chunk.length : nl + 1;
      this.line += chunk.toString('latin1', off, end);
      off = end;
      // Right after a chunk's data only CRLF may follow.
      if (this.state === 'crlf' && !/^\r?\n?$/.test(this.line)) throw this.malformed();
      if (nl < 0) {
        if (this.line.length > 4096) throw this.malformed();
        continue;
      }
      const line = this.line.trim();
      this.line = '';
      if (this.state === 'crlf') {
        if (line !== '') throw this.malformed();
        this.state = 'size';
      } else if (this.state === 'size') {
        const size = parseInt(line.split(';')[0], 16);
        if (!/^[0-9a-fA-F]+$/.test(line.split(';')[0].trim()) || !Number.isSafeInteger(size) || size < 0) throw this.malformed();
        if (size === 0) this.state = 'trailer';
        else { this.left = size; this.state = 'data'; }
      } else if (line === '') {
        return true; // the empty line after the last chunk (and any trailers)
      }
    }
    return false;
  }

  private malformed(): Error {
    return new Error(`malformed chunked answer from ${this.who}`);
  }
}
