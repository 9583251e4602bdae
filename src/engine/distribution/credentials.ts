/**
 * Registry credentials from Docker's client config (`$DOCKER_CONFIG/config.json`,
 * else `~/.docker/config.json`): `auths.<host>.auth` (base64 `user:password`),
 * or `username`/`password`, or an `identitytoken`. Docker Hub's entry is keyed
 * `https://index.docker.io/v1/`; other keys may carry a scheme or path.
 *
 *   const c = await loadCredentials('localhost:5000')   // { username: 'u', password: 'p' } | undefined
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Credentials {
  username?: string;
  password?: string;
  /** OAuth2 refresh token, exchanged at the token realm (Docker's `identitytoken`). */
  identityToken?: string;
}

export const dockerHubAuthKey = 'https://index.docker.io/v1/';

export function dockerConfigDir(): string {
  return process.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
}

/** The key Docker uses in `auths` for a registry. */
export function authKey(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' || registry === 'registry-1.docker.io' ? dockerHubAuthKey : registry;
}

export async function loadCredentials(registry: string, configDir = dockerConfigDir()): Promise<Credentials | undefined> {
  let config: any;
  try {
    config = JSON.parse(await fs.readFile(path.join(configDir, 'config.json'), 'utf8'));
  } catch (err: any) {
    if (err.code === 'ENOENT') return undefined;
    throw new Error(`reading ${path.join(configDir, 'config.json')}: ${err.message}`);
  }
  const auths: Record<string, any> = config?.auths ?? {};
  const want = authKey(registry);
  const entry = auths[want] ?? Object.entries(auths).find(([k]) => normalizeKey(k) === normalizeKey(want))?.[1];
  if (!entry) return undefined;
  const creds: Credentials = {};
  if (typeof entry.auth === 'string' && entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new Error(`invalid auth configuration for ${registry}: auth is not user:password`);
    creds.username = decoded.slice(0, colon);
    creds.password = decoded.slice(colon + 1);
  } else if (entry.username) {
    creds.username = entry.username;
    creds.password = entry.password ?? '';
  }
  if (entry.identitytoken) creds.identityToken = entry.identitytoken;
  return creds.username || creds.identityToken ? creds : undefined;
}

/** `https://host:5000/v2/` → `host:5000`, so keys written by old clients still match. */
function normalizeKey(k: string): string {
  if (k === dockerHubAuthKey) return k;
  return k.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
}
