import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Writes a directory tree from a map of relative path → content (parents made
 * as needed) and returns the directory: build contexts, compose projects.
 *
 *   const ctx = await writeTree(path.join(work, 'app'), { Dockerfile: 'FROM busybox\n', 'src/a.txt': 'a' });
 */
export async function writeTree(dir: string, files: Record<string, string>): Promise<string> {
  for (const [rel, body] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await fs.writeFile(path.join(dir, rel), body);
  }
  return dir;
}
