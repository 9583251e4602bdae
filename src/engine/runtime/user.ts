import { InvalidArgument } from '../../common/errors.js';
import { readFileInRoot } from './rootfs-path.js';

/** Who the container's process runs as, resolved against the image's files. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

/**
 * Resolves Docker's `--user` (`name`, `uid`, `name:group`, `uid:gid`, …) and
 * `--group-add` against `/etc/passwd` and `/etc/group` inside `rootfs`
 * (symlinks are resolved inside the root, never on the host).
 *
 *   await resolveUser(rootfs, 'nobody:nogroup', ['audio'])
 *   // → { uid: 65534, gid: 65534, additionalGids: [29], home: '/nonexistent' }
 *
 * Numeric ids need no entry; names that match nothing fail with Docker's
 * message ("unable to find user x: no matching entries in passwd file").
 * Without an explicit group the user's supplementary groups from /etc/group
 * are added, as Docker does.
 */
export async function resolveUser(rootfs: string, spec: string | undefined, groupAdd: string[] = []): Promise<ResolvedUser> {
  const [userPart, groupPart] = splitUserSpec(spec ?? '');
  const passwd = parsePasswd((await readFileInRoot(rootfs, '/etc/passwd')) ?? '');
  const groups = parseGroup((await readFileInRoot(rootfs, '/etc/group')) ?? '');

  let uid = 0;
  let gid = 0;
  let home = '/';
  let name: string | undefined;
  const user = userPart === '' ? 'root' : userPart;
  const numericUser = isNumeric(user);
  const entry = numericUser ? passwd.find((p) => p.uid === Number(user)) : passwd.find((p) => p.name === user);
  if (entry) {
    ({ uid, gid, home, name } = entry);
  } else if (numericUser) {
    uid = toId(user, 'uid');
  } else if (userPart !== '') {
    throw new InvalidArgument(`unable to find user ${user}: no matching entries in passwd file`);
  }

  if (groupPart !== undefined) {
    gid = lookupGroup(groups, groupPart);
  }

  const additional: number[] = [];
  if (groupPart === undefined && name !== undefined) {
    for (const g of groups) if (g.members.includes(name) && g.gid !== gid) additional.push(g.gid);
  }
  for (const g of groupAdd) {
    const id = lookupGroup(groups, g);
    if (!additional.includes(id)) additional.push(id);
  }
  return { uid, gid, additionalGids: additional, home: home || '/' };
}

function splitUserSpec(spec: string): [string, string | undefined] {
  const i = spec.indexOf(':');
  if (i < 0) return [spec, undefined];
  const group = spec.slice(i + 1);
  return [spec.slice(0, i), group === '' ? undefined : group];
}

function lookupGroup(groups: GroupEntry[], g: string): number {
  if (isNumeric(g)) return toId(g, 'gid');
  const found = groups.find((e) => e.name === g);
  if (!found) throw new InvalidArgument(`unable to find group ${g}: no matching entries in group file`);
  return found.gid;
}

function isNumeric(s: string): boolean {
  return /^\d+$/.test(s);
}

function toId(s: string, what: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n > 0xffffffff - 1) throw new InvalidArgument(`invalid ${what}: ${s}`);
  return n;
}

/** Parses passwd(5); malformed lines are skipped as libc does. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 4 || !isNumeric(f[2]) || !isNumeric(f[3])) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' });
  }
  return out;
}

/** Parses group(5); malformed lines are skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3 || !isNumeric(f[2])) continue;
    out.push({ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) });
  }
  return out;
}
