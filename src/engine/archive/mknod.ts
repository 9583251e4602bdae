import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Creates a FIFO or device node. Node has no mknod(2), so this is the one
 * place the coreutils `mknod` program is called from. Mode bits are set by
 * the caller afterwards (chmod), like every other extracted entry.
 *
 *   await makeSpecialFile('/ctr/dev/null', 'character-device', 1, 3)
 */
export async function makeSpecialFile(hostPath: string, type: 'fifo' | 'character-device' | 'block-device', major = 0, minor = 0): Promise<void> {
  const args = type === 'fifo' ? ['--', hostPath, 'p'] : ['--', hostPath, type === 'character-device' ? 'c' : 'b', String(major), String(minor)];
  await run('mknod', args);
}
