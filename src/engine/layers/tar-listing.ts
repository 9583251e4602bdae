import { InvalidArgument } from '../../common/errors.js';

/**
 * One member as GNU tar lists it while extracting with `-vv
 * --quoting-style=c --numeric-owner` under LC_ALL=C: the member's type,
 * name, link target and content size, which is all a layer's whiteout
 * translation and safety checks need. Reading tar's listing instead of
 * parsing the archive in Node keeps the archive's bytes out of the daemon.
 */
export interface ListedMember {
  /** tar-stream's type names, so tar-check.ts judges both kinds of input alike. */
  type: string;
  name: string;
  /** Symlink or hardlink target. */
  linkname?: string;
  /** Content bytes (regular files only; 0 for links, devices and directories). */
  size: number;
}

// The first column's letter, as GNU tar's print_header writes it.
const typeLetters: Record<string, string> = {
  '-': 'file', h: 'link', l: 'symlink', d: 'directory', c: 'character-device', b: 'block-device', p: 'fifo', C: 'contiguous-file',
};

const quoted = '"((?:[^"\\\\]|\\\\.)*)"';
// mode, owner, size (or "major,minor"), date, time, "name", then " -> "target"" or " link to "target"".
const line = new RegExp(`^(\\S)\\S{9}\\s+\\S+\\s+(\\S+) \\S+ \\S+ ${quoted}(?: -> ${quoted}| link to ${quoted})?$`);

/**
 * Parses one line of the listing. Throws InvalidArgument for a line that is no
 * member (tar only prints other lines for archive kinds no image layer uses:
 * volume headers, multi-volume continuations) or a type a layer may not hold.
 *
 *   parseListingLine('lrwxrwxrwx 0/0 0 2024-01-01 00:00 "bin/sh" -> "busybox"')
 *   // { type: 'symlink', name: 'bin/sh', linkname: 'busybox', size: 0 }
 */
export function parseListingLine(text: string): ListedMember {
  const m = line.exec(text);
  if (!m) throw new InvalidArgument(`invalid tar archive: unexpected member ${JSON.stringify(text)}`);
  const type = typeLetters[m[1]];
  const name = unquoteC(m[3]);
  if (!type) throw new InvalidArgument(`invalid tar header: unsupported entry type ${JSON.stringify(m[1])} for ${JSON.stringify(name)}`);
  const target = m[4] ?? m[5];
  const size = type === 'file' || type === 'contiguous-file' ? Number(m[2]) : 0;
  if (!Number.isSafeInteger(size)) throw new InvalidArgument(`invalid tar header: size ${JSON.stringify(m[2])} of ${JSON.stringify(name)}`);
  return { type, name, size, ...(target !== undefined ? { linkname: unquoteC(target) } : {}) };
}

// tar's note on a parent directory it made because a member needed it (no member of its own).
const implied = /^d\S{9}\s+Creating directory: "/;

/** Every member of a complete listing (tar's whole stdout), in archive order. */
export function parseListing(text: string): ListedMember[] {
  return text.split('\n').filter((l) => l !== '' && !implied.test(l)).map(parseListingLine);
}

const escapes: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11 };

/**
 * Undoes gnulib's C quoting (the inside of the quotes): backslash escapes and
 * octal bytes, which is how non-ASCII names arrive under LC_ALL=C; the bytes
 * are then read as UTF-8, as tar-stream reads names.
 */
export function unquoteC(s: string): string {
  if (!s.includes('\\')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\') {
      for (const b of Buffer.from(c, 'latin1')) bytes.push(b);
      continue;
    }
    const n = s[++i];
    if (n >= '0' && n <= '7') {
      let oct = n;
      while (oct.length < 3 && s[i + 1] >= '0' && s[i + 1] <= '7') oct += s[++i];
      bytes.push(parseInt(oct, 8) & 0xff);
    } else if (n in escapes) bytes.push(escapes[n]);
    else bytes.push(n.charCodeAt(0));
  }
  return Buffer.from(bytes).toString('utf8');
}
