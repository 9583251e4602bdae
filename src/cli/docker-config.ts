/**
 * The client's registry credentials in Docker's `config.json`
 * (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`), read and
 * written in Docker's format so `docker` and `berth` share logins. Other keys
 * of the file are kept as they are.
 *
 *   await saveLogin(env, 'localhost:5000', 'u', 'p')   // auths["localhost:5000"].auth = base64("u:p")
 *   const header = await registryAuthHeader(env, '127.0.0.1:5000/app')   // X-Registry-Auth value
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const dockerHubKey = 'https://index.docker.io/v1/';

export function configFile(env: NodeJS.ProcessEnv): string {
  return path.join(env.DOCKER_CONFIG || path.join(os.homedir(), '.docker'), 'config.json');
}

/** The registry a repository name lives on, as Docker decides it (`app` → docker.io). */
export function registryOfName(name: string): string {
  const i = name.indexOf('/');
  const first = i < 0 ? '' : name.slice(0, i);
  return first && (/[.:]/.test(first) || first === 'localhost') ? first : 'docker.io';
}

/** The `auths` key of a registry: Docker Hub's historical URL, else host[:port]. */
export function authKey(server: string | undefined): string {
  if (!server) return dockerHubKey;
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (['docker.io', 'index.docker.io', 'registry-1.docker.io'].includes(host)) return dockerHubKey;
  return host;
}

async function readConfig(env: NodeJS.ProcessEnv): Promise<Record<string, any>> {
  try {
    return JSON.parse(await fs.readFile(configFile(env), 'utf8'));
  } catch (err: any) {
    if (err.code === 'ENOENT') return {};
    throw new Error(`loading config file ${configFile(env)}: ${err.message}`);
  }
}

async function writeConfig(env: NodeJS.ProcessEnv, config: Record<string, any>): Promise<void> {
  const file = configFile(env);
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(config, null, '\t') + '\n', { mode: 0o600 });
  await fs.rename(tmp, file);
}

/** Stored credentials for a registry, with both the header form and the parts. */
export async function loadLogin(env: NodeJS.ProcessEnv, server: string): Promise<{ username: string; password: string } | undefined> {
  const entry = (await readConfig(env)).auths?.[authKey(server)];
  if (!entry?.auth) return undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

export async function saveLogin(env: NodeJS.ProcessEnv, server: string, username: string, password: string): Promise<void> {
  const config = await readConfig(env);
  config.auths ??= {};
  config.auths[authKey(server)] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  await writeConfig(env, config);
}

/** Drops a registry's credentials; false when there were none. */
export async function removeLogin(env: NodeJS.ProcessEnv, server: string): Promise<boolean> {
  const config = await readConfig(env);
  const key = authKey(server);
  if (!config.auths?.[key]) return false;
  delete config.auths[key];
  await writeConfig(env, config);
  return true;
}

/** The `X-Registry-Auth` header for pulling or pushing `name` (base64url JSON, as the docker CLI sends). */
export async function registryAuthHeader(env: NodeJS.ProcessEnv, name: string): Promise<Record<string, string>> {
  const server = registryOfName(name);
  const login = await loadLogin(env, server).catch(() => undefined);
  const body = login ? { username: login.username, password: login.password, serveraddress: authKey(server) } : {};
  return { 'X-Registry-Auth': Buffer.from(JSON.stringify(body)).toString('base64url') };
}
