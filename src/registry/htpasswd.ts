/**
 * Basic-auth users from an Apache htpasswd file. Only bcrypt entries
 * (`htpasswd -B`, `$2y$`/`$2a$`/`$2b$`) are accepted, as the distribution
 * registry does.
 *
 *   const users = await Htpasswd.load('/etc/registry/htpasswd')
 *   if (!(await users.verify(req.headers.authorization))) challenge()
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import bcrypt from 'bcryptjs';

export class Htpasswd {
  /** Credentials already checked, keyed by a hash of user:password, so bcrypt runs once per client, not per request. */
  private verified = new Set<string>();

  private constructor(private readonly users: Map<string, string>) {}

  static async load(file: string): Promise<Htpasswd> {
    const users = new Map<string, string>();
    const text = await fs.readFile(file, 'utf8');
    for (const [i, raw] of text.split('\n').entries()) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const colon = line.indexOf(':');
      const hash = line.slice(colon + 1);
      if (colon <= 0 || !/^\$2[aby]\$\d\d\$/.test(hash)) {
        throw new Error(`${file}:${i + 1}: not a bcrypt htpasswd entry (create it with htpasswd -B)`);
      }
      users.set(line.slice(0, colon), hash);
    }
    return new Htpasswd(users);
  }

  /** The user named by a valid `Authorization: Basic …` header, or undefined. */
  async verify(authorization: string | undefined): Promise<string | undefined> {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
    if (!m) return undefined;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const user = decoded.slice(0, colon);
    const hash = this.users.get(user);
    if (!hash) return undefined;
    const key = createHash('sha256').update(decoded).update('\0').update(hash).digest('hex');
    if (this.verified.has(key)) return user;
    // `$2y$` is PHP's name for the same algorithm as `$2b$`.
    if (!(await bcrypt.compare(decoded.slice(colon + 1), hash.replace(/^\$2y\$/, '$2b$')))) return undefined;
    if (this.verified.size > 10000) this.verified.clear();
    this.verified.add(key);
    return user;
  }
}
