import { constants, closeSync, fchmodSync, fchownSync, futimesSync, linkSync, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync, chmodSync, symlinkSync, unlinkSync, utimesSync, writeSync, type Stats } from 'node:fs';
import * as path from 'node:path';

export interface ExtractOptions {
  /** Keep the archive's owners (`cp -a`); otherwise files belong to whoever runs `berth cp`. */
  preserveOwner?: boolean;
  /** Rename the top entry (copying `a` to a new name `b`). */
  rename?: { from: string; to: string };
}

/** A tar header's fields, after PAX and GNU long-name records were applied. */
interface Entry {
  name: string;
  linkname: string;
  type: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

const BLOCK = 512;
/** PAX and GNU long-name records larger than this are refused (they are a few hundred bytes). */
const MAX_META = 1 << 20;

/**
 * Unpacks a tar under a host directory as its bytes arrive, synchronously:
 * `push` parses what it is given and writes file data straight from that
 * buffer, so the caller may reuse the buffer as soon as `push` returns (the
 * `cp` download reads the socket into one reused 1 MiB buffer: no copy, no
 * fresh memory per read, which on these VMs cost more than the copy). The
 * tar comes from a container, so it is not trusted: no entry lands outside
 * `dir`, none is written through a symlink, hard links must point inside.
 * Reads ustar, GNU long names and PAX records (path, linkpath, size, mtime,
 * uid, gid), which is what Docker's and Berth's daemons write.
 *
 *   const x = new TarExtractor('/dst', { rename: { from: 'a', to: 'b' } });
 *   for (const chunk of chunks) x.push(chunk);
 *   x.finish();                 // throws if the archive ended mid-entry
 */
export class TarExtractor {
  private readonly root: string;
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Bytes of the current entry's data still to come, then its padding. */
  private dataLeft = 0;
  private padLeft = 0;
  private fd: number | undefined;
  private current: Entry | undefined;
  private meta: Buffer[] | undefined;
  private metaSize = 0;
  private metaType = '';
  private pax: Record<string, string> = {};
  private longName: string | undefined;
  private longLink: string | undefined;
  private ended = false;
  private readonly dirs: { at: string; mode: number; mtime: number; uid: number; gid: number }[] = [];

  constructor(dir: string, private readonly opts: ExtractOptions = {}) {
    this.root = path.resolve(dir);
  }

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && !this.ended) {
      if (this.dataLeft > 0) {
        const n = Math.min(this.dataLeft, chunk.length - off);
        this.data(chunk, off, n);
        off += n;
        this.dataLeft -= n;
        if (this.dataLeft === 0) this.entryDone();
      } else if (this.padLeft > 0) {
        const n = Math.min(this.padLeft, chunk.length - off);
        off += n;
        this.padLeft -= n;
      } else {
        const n = Math.min(BLOCK - this.headerFill, chunk.length - off);
        chunk.copy(this.header, this.headerFill, off, off + n);
        this.headerFill += n;
        off += n;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.onHeader();
        }
      }
    }
  }

  /** The archive's end: applies directory modes and times (deepest first). */
  finish(): void {
    if (this.dataLeft > 0 || this.headerFill > 0 || this.meta) {
      this.abort();
      throw new Error('unexpected end of the archive: it was cut short');
    }
    for (const d of this.dirs.reverse()) {
      if (this.opts.preserveOwner) lchownSync(d.at, d.uid, d.gid);
      chmodSync(d.at, d.mode);
      utimesSync(d.at, d.mtime, d.mtime);
    }
    this.dirs.length = 0;
  }

  /** Closes a file left open by an archive that failed midway. */
  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private onHeader(): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      this.ended = true; // the end-of-archive blocks: whatever follows is padding
      return;
    }
    if (!checksumOk(h)) throw new Error('invalid tar header: bad checksum');
    const magic = h.toString('latin1', 257, 263);
    const prefix = magic === 'ustar\0' ? cString(h, 345, 155) : '';
    const base = cString(h, 0, 100);
    const e: Entry = {
      name: prefix ? `${prefix}/${base}` : base,
      linkname: cString(h, 157, 100),
      type: String.fromCharCode(h[156] || 0x30),
      size: num(h, 124, 12),
      mode: num(h, 100, 8),
      uid: num(h, 108, 8),
      gid: num(h, 116, 8),
      mtime: num(h, 136, 12),
    };
    if (e.type === 'x' || e.type === 'g' || e.type === 'L' || e.type === 'K') {
      if (e.size > MAX_META) throw new Error(`invalid tar header: a ${e.size}-byte metadata record`);
      this.meta = [];
      this.metaSize = 0;
      this.metaType = e.type;
      this.expectData(e.size);
      if (e.size === 0) this.entryDone();
      return;
    }
    this.applyMeta(e);
    // Only regular files carry data on disk; others' (rare) data is skipped.
    const hasData = e.type === '0' || e.type === '7';
    this.current = e;
    this.begin(e);
    this.expectData(hasData || !['1', '2', '3', '4', '5', '6'].includes(e.type) ? e.size : 0);
    if (this.dataLeft === 0) this.entryDone();
  }

  private expectData(size: number): void {
    this.dataLeft = size;
    this.padLeft = (BLOCK - (size % BLOCK)) % BLOCK;
  }

  private applyMeta(e: Entry): void {
    const p = this.pax;
    if (p.path !== undefined) e.name = p.path;
    if (p.linkpath !== undefined) e.linkname = p.linkpath;
    if (p.size !== undefined) e.size = Number(p.size);
    if (p.mtime !== undefined) e.mtime = Math.floor(Number(p.mtime));
    if (p.uid !== undefined) e.uid = Number(p.uid);
    if (p.gid !== undefined) e.gid = Number(p.gid);
    if (this.longName !== undefined) e.name = this.longName;
    if (this.longLink !== undefined) e.linkname = this.longLink;
    this.pax = {};
    this.longName = this.longLink = undefined;
    if (!Number.isSafeInteger(e.size) || e.size < 0) throw new Error(`invalid tar header for ${JSON.stringify(e.name)}: size ${e.size}`);
  }

  private data(chunk: Buffer, off: number, n: number): void {
    if (this.meta) {
      this.meta.push(Buffer.from(chunk.subarray(off, off + n))); // small: a copy outlives the caller's buffer
      this.metaSize += n;
    } else if (this.fd !== undefined) {
      let done = 0;
      while (done < n) done += writeSync(this.fd, chunk, off + done, n - done);
    }
  }

  private entryDone(): void {
    if (this.meta) {
      const text = Buffer.concat(this.meta, this.metaSize);
      this.meta = undefined;
      if (this.metaType === 'x') this.pax = { ...this.pax, ...parsePax(text) };
      else if (this.metaType === 'L') this.longName = cString(text, 0, text.length);
      else if (this.metaType === 'K') this.longLink = cString(text, 0, text.length);
      return; // 'g' (global PAX) carries nothing a copy needs
    }
    const e = this.current;
    this.current = undefined;
    if (e && this.fd !== undefined) {
      const fd = this.fd;
      this.fd = undefined;
      try {
        if (this.opts.preserveOwner) fchownSync(fd, e.uid, e.gid);
        fchmodSync(fd, e.mode & 0o7777);
        futimesSync(fd, e.mtime, e.mtime);
      } finally {
        closeSync(fd);
      }
    }
  }

  /** Creates what the entry names (files are opened for their data to follow). */
  private begin(e: Entry): void {
    const rel = this.relOf(e.name);
    const at = rel === '' ? this.root : path.join(this.root, rel);
    refuseSymlinkParents(this.root, rel);
    const existing = lstatOrUndefined(at);
    const isDir = e.type === '5';
    if (existing?.isDirectory() && !isDir) throw new Error(`cannot overwrite directory "${at}" with non-directory "${e.name}"`);
    if (existing && !existing.isDirectory() && isDir) throw new Error(`cannot overwrite non-directory "${at}" with directory "${e.name}"`);
    const mode = e.mode & 0o7777;
    switch (e.type) {
      case '5':
        if (!existing) mkdirSync(at, { mode: 0o700 });
        this.dirs.push({ at, mode, mtime: e.mtime, uid: e.uid, gid: e.gid });
        return;
      case '0': case '7':
        if (existing) unlinkSync(at);
        this.fd = openSync(at, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        return;
      case '2':
        if (existing) unlinkSync(at);
        symlinkSync(e.linkname, at);
        if (this.opts.preserveOwner) lchownSync(at, e.uid, e.gid);
        lutimesSync(at, e.mtime, e.mtime);
        return;
      case '1': {
        const target = this.relOf(e.linkname);
        refuseSymlinkParents(this.root, target);
        if (existing) unlinkSync(at);
        linkSync(path.join(this.root, target), at);
        return;
      }
      default:
        // Devices, fifos: a client cannot always make them; Docker's client skips what it cannot.
        return;
    }
  }

  private relOf(name: string): string {
    let rel = path.posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
    if (rel === '.') rel = '';
    if (this.opts.rename) {
      const { from, to } = this.opts.rename;
      // A directory's content (`dir/.`, entries `./a`) renamed lands under the new name.
      if (from === '.' || from === '/') rel = rel ? `${to}/${rel}` : to;
      else if (rel === from) rel = to;
      else if (rel.startsWith(`${from}/`)) rel = `${to}${rel.slice(from.length)}`;
    }
    if (rel === '..' || rel.startsWith('../')) throw new Error(`invalid archive entry ${JSON.stringify(name)}: outside the destination`);
    return rel;
  }
}

function lstatOrUndefined(p: string): Stats | undefined {
  return lstatSync(p, { throwIfNoEntry: false });
}

/** Throws if any directory between `root` and `rel` is a symlink (it could lead anywhere). */
function refuseSymlinkParents(root: string, rel: string): void {
  const parts = rel.split('/').slice(0, -1);
  let cur = root;
  for (const p of parts) {
    cur = path.join(cur, p);
    const st = lstatOrUndefined(cur);
    if (!st) throw new Error(`invalid archive entry ${rel}: ${cur}: no such directory`);
    if (st.isSymbolicLink()) throw new Error(`invalid archive entry ${rel}: ${cur} is a symbolic link`);
    if (!st.isDirectory()) throw new Error(`invalid archive entry ${rel}: ${cur} is not a directory`);
  }
}

/** A NUL-terminated field as text (names are UTF-8 in practice). */
function cString(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end < 0 || end > off + len ? off + len : end);
}

/** A numeric field: octal text, or GNU's base-256 when the high bit is set. */
function num(b: Buffer, off: number, len: number): number {
  if (b[off] & 0x80) {
    let v = b[off] & 0x3f; // sign bit 0x40: negative values are not valid here
    if (b[off] & 0x40) throw new Error('invalid tar header: negative number');
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i];
    return v;
  }
  const text = b.toString('latin1', off, off + len).replace(/[\0 ]+$/, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new Error(`invalid tar header: ${JSON.stringify(text)} is not an octal number`);
  return parseInt(text, 8);
}

function checksumOk(h: Buffer): boolean {
  const want = num(h, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return want === unsigned || want === signed;
}

/** PAX extended header records: `LEN key=value\n` each. */
function parsePax(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < buf.length) {
    const sp = buf.indexOf(0x20, off);
    const len = sp < 0 ? NaN : Number(buf.toString('latin1', off, sp));
    if (!Number.isInteger(len) || len <= 0 || off + len > buf.length) throw new Error('invalid tar header: malformed PAX record');
    const rec = buf.toString('utf8', sp + 1, off + len - 1); // drop the trailing newline
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    off += len;
  }
  return out;
}
