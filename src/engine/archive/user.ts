import { promises as fs } from 'node:fs';
import { InvalidArgument } from '../../common/errors.js';
import { resolveInContainer, type ContainerFs } from './resolve.js';

/**
 * Resolves a container's `User` (`name`, `uid`, `name:group`, `uid:gid`)
 * against its own /etc/passwd and /etc/group, for `cp -a` (copyUIDGID).
 * An empty user is root.
 *
 *   await lookupUser(cfs, 'nobody')  // { uid: 65534, gid: 65534 }
 */
export async function lookupUser(cfs: ContainerFs, user: string): Promise<{ uid: number; gid: number }> {
  if (!user) return { uid: 0, gid: 0 };
  const [u, g] = user.split(':', 2);
  const passwd = await readTable(cfs, '/etc/passwd');
  let uid: number;
  let gid: number;
  const row = passwd.find((r) => r[0] === u) ?? (/^\d+$/.test(u) ? passwd.find((r) => r[2] === u) : undefined);
  if (row) {
    uid = Number(row[2]);
    gid = Number(row[3]);
  } else if (/^\d+$/.test(u)) {
    uid = Number(u);
    gid = 0;
  } else {
    throw new InvalidArgument(`unable to find user ${u}: no matching entries in passwd file`);
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const grow = (await readTable(cfs, '/etc/group')).find((r) => r[0] === g);
      if (!grow) throw new InvalidArgument(`unable to find group ${g}: no matching entries in group file`);
      gid = Number(grow[2]);
    }
  }
  return { uid, gid };
}

async function readTable(cfs: ContainerFs, file: string): Promise<string[][]> {
  const r = await resolveInContainer(cfs, file, true);
  const text = await fs.readFile(r.host, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}
