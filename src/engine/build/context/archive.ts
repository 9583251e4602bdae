/**
 * ADD unpacks a local source when it is a tar archive, plain or compressed,
 * and copies it as a file otherwise. Docker decides by content, not by name:
 * a `.tar.gz` that is not a tar is copied as is.
 *
 *   await archiveKind('/ctx/rootfs.tar.gz')   // 'gzip'
 *   await archiveKind('/ctx/notes.txt')       // undefined
 */
import { open } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

export type ArchiveKind = 'tar' | 'gzip' | 'bzip2' | 'xz';

const isTarHeader = (b: Buffer) => b.length >= 262 && b.subarray(257, 262).toString('latin1') === 'ustar';

/** What kind of tar archive the file is, if any. */
export async function archiveKind(path: string): Promise<ArchiveKind | undefined> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const b = head.subarray(0, bytesRead);
    if (isTarHeader(b)) return 'tar';
    if (b[0] === 0x1f && b[1] === 0x8b) {
      // Enough compressed bytes to see the first tar header; a truncated stream still yields it.
      try {
        return isTarHeader(gunzipSync(b, { finishFlush: 2 /* Z_SYNC_FLUSH */ })) ? 'gzip' : undefined;
      } catch {
        return undefined;
      }
    }
    // No bzip2/xz decoder in Node: trust the magic; the executor unpacks them with tar(1).
    if (b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
    if (b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
    return undefined;
  } finally {
    await fh.close();
  }
}
