import { promises as fs } from 'node:fs';
import { Conflict } from '../common/errors.js';

/**
 * One daemon per data root. The lock is a pid file created with O_EXCL; a
 * file left by a daemon that died (kill -9) is recognised because its pid is
 * gone or is no longer a berthd, and is taken over.
 */
export async function acquireDaemonLock(file: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await fs.open(file, 'wx', 0o644);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return async () => {
        const pid = await readPid(file);
        if (pid === process.pid) await fs.rm(file, { force: true });
      };
    } catch (err: any) {
      if (err?.code !== 'EEXIST') throw err;
      const pid = await readPid(file);
      if (pid && pid !== process.pid && (await isBerthd(pid))) {
        throw new Conflict(`another berthd (pid ${pid}) is already using this data root (lock ${file}); stop it first or pass another --data-root`);
      }
      await fs.rm(file, { force: true });
    }
  }
  throw new Conflict(`could not take the daemon lock ${file}`);
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const n = Number((await fs.readFile(file, 'utf8')).trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

async function isBerthd(pid: number): Promise<boolean> {
  try {
    const cmd = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8');
    return /berthd|daemon\/main\.js/.test(cmd);
  } catch {
    return false;
  }
}
