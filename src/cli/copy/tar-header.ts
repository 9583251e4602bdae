/**
 * Encodes one tar member header (ustar, preceded by a pax header when a name,
 * link target, size or id does not fit the ustar fields), as GNU tar and
 * Docker's archiver write them. The body and its padding are the caller's.
 *
 *   out.write(tarHeader({ name: 'a/b', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 3, mtime: new Date() }));
 */
export interface TarHeader {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  mtime: Date;
  linkname?: string;
}

const typeFlags: Record<TarHeader['type'], string> = { file: '0', link: '1', symlink: '2', directory: '5', fifo: '6' };
const maxOctal = (len: number) => 8 ** (len - 1) - 1;

export function tarHeader(h: TarHeader): Buffer {
  const name = Buffer.from(h.name);
  const link = Buffer.from(h.linkname ?? '');
  const size = h.size ?? 0;
  const seconds = Math.floor(h.mtime.getTime() / 1000);
  const pax: [string, string][] = [];
  const split = splitName(name);
  if (!split) pax.push(['path', h.name]);
  if (link.length > 100) pax.push(['linkpath', h.linkname!]);
  if (size > maxOctal(12)) pax.push(['size', String(size)]);
  if (h.uid > maxOctal(8)) pax.push(['uid', String(h.uid)]);
  if (h.gid > maxOctal(8)) pax.push(['gid', String(h.gid)]);
  const main = ustar({
    name: split?.name ?? name.subarray(0, 100), prefix: split?.prefix, type: typeFlags[h.type], mode: h.mode,
    uid: Math.min(h.uid, maxOctal(8)), gid: Math.min(h.gid, maxOctal(8)), size: Math.min(size, maxOctal(12)), mtime: seconds,
    link: link.subarray(0, 100),
  });
  if (pax.length === 0) return main;
  const body = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
  const head = ustar({ name: Buffer.from('././@PaxHeader'), type: 'x', mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: seconds, link: Buffer.alloc(0) });
  return Buffer.concat([head, body, Buffer.alloc(padding(body.length)), main]);
}

/** Zero bytes after a body of `size` bytes up to the next 512-byte block. */
export function padding(size: number): number {
  return (512 - (size % 512)) % 512;
}

/** Two zero blocks: the end of an archive. */
export const tarEnd = Buffer.alloc(1024);

function paxRecord(key: string, value: string): Buffer {
  const rest = Buffer.byteLength(key) + Buffer.byteLength(value) + 3;
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return Buffer.from(`${len} ${key}=${value}\n`);
}

/** A name that fits ustar's 100-byte name plus 155-byte prefix, split at a slash. */
function splitName(name: Buffer): { name: Buffer; prefix?: Buffer } | undefined {
  if (name.length <= 100) return { name };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== 0x2f) continue;
    if (i > 155) continue;
    if (name.length - i - 1 > 100) return undefined;
    return { name: name.subarray(i + 1), prefix: name.subarray(0, i) };
  }
  return undefined;
}

function ustar(f: { name: Buffer; prefix?: Buffer; type: string; mode: number; uid: number; gid: number; size: number; mtime: number; link: Buffer }): Buffer {
  const h = Buffer.alloc(512);
  f.name.copy(h, 0);
  octal(h, 100, 8, f.mode & 0o7777);
  octal(h, 108, 8, f.uid);
  octal(h, 116, 8, f.gid);
  octal(h, 124, 12, f.size);
  octal(h, 136, 12, Math.max(0, f.mtime));
  h[156] = f.type.charCodeAt(0);
  f.link.copy(h, 157);
  h.write('ustar\u000000', 257, 'latin1');
  if (f.prefix) f.prefix.copy(h, 345);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += h[i];
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return h;
}

function octal(h: Buffer, off: number, len: number, n: number): void {
  h.write(n.toString(8).padStart(len - 1, '0') + '\0', off, len, 'latin1');
}
