/**
 * DistributionService is the daemon's side of `pull`, `push` and `login`: it
 * turns API parameters (a reference, the client's credentials) into registry
 * clients with the daemon's settings (insecure registries, certs.d, parallel
 * transfer limits shared by every pull and push) and runs the transfer.
 * Credentials come only from the caller, as with Docker: the daemon never
 * reads a config.json.
 *
 *   const d = new DistributionService(images, { insecureRegistries: [], maxConcurrentDownloads: 3, maxConcurrentUploads: 5 })
 *   await d.pull('127.0.0.1:5000/app', 'v1', { progress: send })
 *   await d.login({ username: 'u', password: 'p', serveraddress: '127.0.0.1:5000' })   // { Status: 'Login Succeeded' }
 */
import { InvalidArgument, NotFound } from '../../common/errors.js';
import { familiar, familiarName, parseReference, type Reference } from '../images/reference.js';
import type { ImageService } from '../images/service.js';
import { RegistryClient } from './client.js';
import type { Credentials } from './credentials.js';
import { NoCredentials, type RetryPolicy } from './transport.js';
import { pullAllTags, pullImage } from './pull.js';
import { localTags, pushImage } from './push.js';
import type { ProgressSink } from './progress.js';
import { Semaphore } from './verify.js';

export interface DistributionOptions {
  insecureRegistries: string[];
  certsDir?: string;
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  retry?: RetryPolicy;
}

/** The `X-Registry-Auth` / `POST /auth` body as Docker clients send it. */
export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

export class DistributionService {
  private readonly downloads: Semaphore;
  private readonly uploads: Semaphore;

  constructor(private readonly images: ImageService, private readonly opts: DistributionOptions) {
    this.downloads = new Semaphore(opts.maxConcurrentDownloads);
    this.uploads = new Semaphore(opts.maxConcurrentUploads);
  }

  /**
   * `POST /images/create?fromImage=&tag=`: a tag or digest in either parameter
   * pulls that; neither pulls every tag, as Docker's API does.
   */
  async pull(fromImage: string, tag: string | undefined, o: { auth?: AuthConfig; platform?: string; progress: ProgressSink }): Promise<void> {
    let ref = parseReference(fromImage);
    if (tag) {
      if (/^sha256:/.test(tag)) ref = { ...parseReference(`${familiarName(ref)}@${tag}`), tag: undefined };
      else ref = { ...parseReference(`${familiarName(ref)}:${tag}`), digest: undefined };
    }
    const client = this.client(o.auth);
    try {
      if (!ref.tag && !ref.digest) {
        const updated = await pullAllTags(this.images, client, ref, o);
        o.progress({ status: `Status: ${updated ? 'Downloaded newer image' : 'Image is up to date'} for ${familiarName(ref)}` });
        return;
      }
      const r = await pullImage(this.images, client, ref, o);
      o.progress({ status: `Status: ${r.updated ? 'Downloaded newer image' : 'Image is up to date'} for ${familiar(ref)}` });
    } finally {
      await client.close();
    }
  }

  /** `POST /images/{name}/push?tag=`: one tag, or every tag of the repository when none is named. */
  async push(name: string, tag: string | undefined, o: { auth?: AuthConfig; progress: ProgressSink }): Promise<void> {
    const parsed = parseReference(name);
    if (parsed.digest) throw new InvalidArgument('cannot push a digest reference');
    const repo: Reference = { domain: parsed.domain, path: parsed.path };
    const tags = tag ? [tag] : parsed.tag ? [parsed.tag] : localTags(this.images, repo);
    if (tags.length === 0) throw new InvalidArgument(`An image does not exist locally with the tag: ${familiarName(repo)}`);
    // Fails before any output when the image is missing, as Docker does.
    for (const t of tags) {
      try {
        this.images.resolve(familiar({ ...repo, tag: t }));
      } catch {
        throw new NotFound(`An image does not exist locally with the tag: ${familiarName(repo)}`);
      }
    }
    const client = this.client(o.auth);
    try {
      o.progress({ status: `The push refers to repository [${repo.domain}/${repo.path}]` });
      for (const t of tags) await pushImage(this.images, client, { ...repo, tag: t }, o.progress);
    } catch (err) {
      // Docker's push says only this (its pull names the request).
      if (err instanceof NoCredentials) throw new NoCredentials('no basic auth credentials');
      throw err;
    } finally {
      await client.close();
    }
  }

  /** `POST /auth`: checks the credentials against the registry. */
  async login(auth: AuthConfig): Promise<{ Status: string; IdentityToken: string }> {
    const domain = registryDomain(auth.serveraddress);
    const client = this.client(auth);
    try {
      await client.checkLogin(domain);
    } finally {
      await client.close();
    }
    return { Status: 'Login Succeeded', IdentityToken: '' };
  }

  private client(auth: AuthConfig | undefined): RegistryClient {
    const creds = credentialsOf(auth);
    return new RegistryClient({
      insecureRegistries: this.opts.insecureRegistries,
      certsDir: this.opts.certsDir,
      credentials: () => creds,
      downloadSlots: this.downloads,
      uploadSlots: this.uploads,
      retry: this.opts.retry,
    });
  }
}

/** Decodes `X-Registry-Auth` (base64url JSON); anything unreadable counts as no credentials, as in Docker. */
export function decodeAuthHeader(value: string | undefined): AuthConfig | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
    return parsed && typeof parsed === 'object' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function credentialsOf(auth: AuthConfig | undefined): Credentials | undefined {
  if (!auth) return undefined;
  let { username, password } = auth;
  if (!username && auth.auth) {
    const decoded = Buffer.from(auth.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i > 0) { username = decoded.slice(0, i); password = decoded.slice(i + 1); }
  }
  const creds: Credentials = {};
  if (username) { creds.username = username; creds.password = password ?? ''; }
  if (auth.identitytoken) creds.identityToken = auth.identitytoken;
  return creds.username || creds.identityToken ? creds : undefined;
}

/** `https://index.docker.io/v1/`, `http://host:5000`, `host:5000` → the registry's domain. */
export function registryDomain(address: string | undefined): string {
  if (!address) return 'docker.io';
  const host = address.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (host === 'index.docker.io' || host === 'registry-1.docker.io' || host === 'docker.io') return 'docker.io';
  return host;
}
