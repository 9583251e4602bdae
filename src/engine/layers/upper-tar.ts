import { Transform, type TransformCallback } from 'node:stream';
import { opaqueXattr } from './apply.js';
import { opaqueMarker, whiteoutPrefix, type LayerScan } from './tar-check.js';

/**
 * Turns GNU tar's pax archive of an overlay upper dir into an OCI layer by
 * rewriting headers only: file contents pass through as the very buffers tar
 * wrote (a JS re-pack of every byte was most of a commit's time).
 *
 *   a 0/0 character device `a/b`         → empty file `a/.wh.b`
 *   `trusted.overlay.opaque=y` on `a/`    → `a/` then empty file `a/.wh..wh..opq`
 *   any other `trusted.overlay.*` xattr   → dropped (overlay's bookkeeping)
 *
 * Entries named in `skip` (relative paths, as runtimePlaceholders gives) or
 * refused by `keep` (non-directories only) are left out whole. While it runs
 * it builds the layer's LayerScan, so the snapshot can be made from the same
 * stream without scanning it again: the archive comes from a real directory,
 * so it has no `..`, nothing under a symlink and hardlinks only to earlier
 * members.
 *
 *   const layer = new UpperTarFilter({ skip });
 *   tarOfUpper.pipe(layer).pipe(blob);  // later: layer.scan
 */
export class UpperTarFilter extends Transform {
  /** Complete once the stream has ended. */
  readonly scan: LayerScan = { size: 0, whiteouts: [], opaqueDirs: [], markers: [], dirs: new Map() };
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** Bytes of member data (with padding) still to pass on or drop. */
  private dataLeft = 0;
  private dropData = false;
  /** The pax header (block and records) waiting for the member it describes. */
  private pax?: { block: Buffer; records: PaxRecord[] };
  private paxDataLeft = 0;
  private ended = false;

  constructor(private readonly opts: { skip?: Set<string>; keep?: (name: string, size: number) => boolean } = {}) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      let off = 0;
      while (off < chunk.length) {
        // Past the end marker: tar's record padding, which depends on its blocking factor; dropped.
        if (this.ended) return cb();
        if (this.dataLeft > 0) {
          const n = Math.min(this.dataLeft, chunk.length - off);
          if (!this.dropData) this.push(chunk.subarray(off, off + n));
          this.dataLeft -= n;
          off += n;
          continue;
        }
        // Headers and pax records are small: gather them whole before reading.
        const need = this.paxDataLeft > 0 ? this.paxDataLeft : 512;
        const n = Math.min(need - this.pendingLen, chunk.length - off);
        this.pending.push(chunk.subarray(off, off + n));
        this.pendingLen += n;
        off += n;
        if (this.pendingLen < need) continue;
        const block = Buffer.concat(this.pending, this.pendingLen);
        this.pending = [];
        this.pendingLen = 0;
        if (this.paxDataLeft > 0) {
          this.paxDataLeft = 0;
          this.pax!.records = parsePax(block.subarray(0, octal(this.pax!.block, 124, 12)));
        } else {
          this.onHeader(block);
        }
      }
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    if (!this.ended || this.pendingLen > 0 || this.dataLeft > 0 || this.paxDataLeft > 0) return cb(new Error('truncated tar stream from the upper dir'));
    cb();
  }

  private onHeader(h: Buffer): void {
    if (h.every((b) => b === 0)) {
      // End of archive: two zero blocks, as Docker's layers end.
      this.ended = true;
      this.push(Buffer.alloc(1024));
      return;
    }
    const type = String.fromCharCode(h[156] || 0x30);
    if (type === 'x') {
      this.pax = { block: Buffer.from(h), records: [] };
      this.paxDataLeft = padded(octal(h, 124, 12));
      return;
    }
    if (type === 'g' || type === 'L' || type === 'K') throw new Error(`unexpected tar header type ${type} in the upper dir's archive`);
    const pax = this.pax;
    this.pax = undefined;
    const rec = (k: string) => pax?.records.find((r) => r.key === k)?.value;
    const rawName = rec('path') ?? headerName(h);
    const name = rawName.toString('utf8').replace(/^\.\//, '').replace(/\/+$/, '');
    const size = Number(rec('size')?.toString() ?? sizeOf(h));
    this.dataLeft = padded(type === '0' || type === '7' ? size : 0);
    const dir = type === '5';
    if (name === '' || this.opts.skip?.has(name) || (!dir && this.opts.keep && !this.opts.keep(name, size))) {
      this.dropData = true;
      return;
    }
    this.dropData = false;
    const mtimeRec = rec('mtime');
    const mtime = mtimeRec ? new Date(Math.round(Number(mtimeRec.toString()) * 1000)) : new Date(octal(h, 136, 12) * 1000);
    const slash = name.lastIndexOf('/');
    const parent = slash < 0 ? '' : name.slice(0, slash);
    const base = slash < 0 ? name : name.slice(slash + 1);

    if (type === '3' && octal(h, 329, 8) === 0 && octal(h, 337, 8) === 0) {
      const wh = (parent ? parent + '/' : '') + whiteoutPrefix + base;
      this.scan.whiteouts.push(name);
      this.scan.markers.push(wh);
      this.pushEntry(wh, '0', h.subarray(136, 148), mtimeRec);
      return;
    }
    let opaque = false;
    if (pax) {
      const kept = pax.records.filter((r) => {
        if (r.key === `SCHILY.xattr.${opaqueXattr}`) { opaque = r.value.toString() === 'y'; return false; }
        return !r.key.startsWith('SCHILY.xattr.trusted.overlay.');
      });
      this.pushPax(pax.block, kept);
    }
    this.push(h);
    if (type === '0' || type === '7') this.scan.size += size;
    if (dir) {
      const xattrs: Record<string, string> = {};
      for (const r of pax?.records ?? []) if (r.key.startsWith('SCHILY.xattr.') && !r.key.startsWith('SCHILY.xattr.trusted.overlay.')) xattrs[r.key] = r.value.toString('utf8');
      this.scan.dirs.set(name, { mode: octal(h, 100, 8), uid: octal(h, 108, 8), gid: octal(h, 116, 8), mtime, pax: Object.keys(xattrs).length ? xattrs : undefined });
      if (opaque) {
        const marker = `${name}/${opaqueMarker}`;
        this.scan.opaqueDirs.push(name);
        this.scan.markers.push(marker);
        this.pushEntry(marker, '0', h.subarray(136, 148), mtimeRec);
      }
    }
  }

  /** An empty member (a whiteout or an opaque marker), with a pax header when the name is long. */
  private pushEntry(name: string, type: string, mtimeField: Buffer, mtimeRec?: Buffer): void {
    const nameBytes = Buffer.from(name);
    const records: PaxRecord[] = [];
    if (mtimeRec) records.push({ key: 'mtime', value: mtimeRec });
    if (nameBytes.length > 100) records.push({ key: 'path', value: nameBytes });
    if (records.length) this.pushPax(newHeader(Buffer.from('PaxHeaders/entry'), 'x', mtimeField), records);
    this.push(newHeader(nameBytes.subarray(0, 100), type, mtimeField));
  }

  private pushPax(block: Buffer, records: PaxRecord[]): void {
    // An empty pax header is legal, but some readers (tar-stream) choke on it.
    if (records.length === 0) return;
    const body = encodePax(records);
    const out = Buffer.alloc(512 + padded(body.length));
    block.copy(out, 0, 0, 512);
    writeOctal(out, 124, 12, body.length);
    checksum(out);
    body.copy(out, 512);
    this.push(out);
  }
}

interface PaxRecord { key: string; value: Buffer }

/** Parses pax records (`LEN KEY=VALUE\n`); values stay bytes (xattrs may be binary). */
function parsePax(buf: Buffer): PaxRecord[] {
  const out: PaxRecord[] = [];
  let i = 0;
  while (i < buf.length) {
    const sp = buf.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number(buf.subarray(i, sp).toString());
    if (!Number.isInteger(len) || len <= 0 || i + len > buf.length) throw new Error('corrupt pax header in the upper dir\'s archive');
    const rec = buf.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    out.push({ key: rec.subarray(0, eq).toString('utf8'), value: Buffer.from(rec.subarray(eq + 1)) });
    i += len;
  }
  return out;
}

function encodePax(records: PaxRecord[]): Buffer {
  return Buffer.concat(records.map(({ key, value }) => {
    const rest = Buffer.byteLength(key) + value.length + 3; // ' ', '=', '\n'
    let len = rest + String(rest).length;
    if (String(len).length !== String(rest).length) len = rest + String(len).length;
    return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
  }));
}

/** A ustar header for an empty member owned by root, mode 0600 (as Docker writes whiteouts). */
function newHeader(name: Buffer, type: string, mtimeField: Buffer): Buffer {
  const h = Buffer.alloc(512);
  name.copy(h, 0, 0, Math.min(100, name.length));
  writeOctal(h, 100, 8, 0o600);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, 0);
  mtimeField.copy(h, 136);
  h[156] = type.charCodeAt(0);
  h.write('ustar\u000000', 257, 'latin1');
  checksum(h);
  return h;
}

function headerName(h: Buffer): Buffer {
  const name = cstr(h, 0, 100);
  const prefix = cstr(h, 345, 155);
  return prefix.length ? Buffer.concat([prefix, Buffer.from('/'), name]) : name;
}

function cstr(h: Buffer, off: number, len: number): Buffer {
  const end = h.indexOf(0, off);
  return h.subarray(off, end < 0 || end > off + len ? off + len : end);
}

function octal(h: Buffer, off: number, len: number): number {
  const s = h.subarray(off, off + len).toString('latin1').replace(/[\0 ]+$/g, '').trim();
  return s ? parseInt(s, 8) : 0;
}

/** Sizes past 8 GiB are base-256 in GNU tar's headers. */
function sizeOf(h: Buffer): number {
  if (!(h[124] & 0x80)) return octal(h, 124, 12);
  let n = 0;
  for (let i = 125; i < 136; i++) n = n * 256 + h[i];
  return n;
}

function writeOctal(h: Buffer, off: number, len: number, n: number): void {
  h.write(n.toString(8).padStart(len - 1, '0') + '\0', off, len, 'latin1');
}

function checksum(h: Buffer): void {
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += h[i];
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
}

const padded = (n: number) => Math.ceil(n / 512) * 512;
