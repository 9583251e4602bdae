import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Bytes of the regular files and symlinks under `dir` (what Docker reports as
 * a container's SizeRw or a volume's size: file sizes, hard links counted once,
 * no block rounding). A missing dir is 0.
 *
 *   await treeSize(sn.dir('container-abc'))  // 10485760
 */
export async function treeSize(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { await walk(p); continue; }
      const st = await fs.lstat(p).catch(() => undefined);
      if (!st || !(st.isFile() || st.isSymbolicLink())) continue;
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
      }
      total += st.size;
    }
  };
  await walk(dir);
  return total;
}
