/**
 * Image references parsed and normalised exactly as Docker does:
 *
 *   parseReference('php')                  → docker.io/library/php:latest
 *   parseReference('host:8000/my_image')   → host:8000/my_image:latest
 *   parseReference('name:tag@sha256:…')    → tag and digest both kept
 *
 * Invalid input throws InvalidArgument with Docker's message
 * ("invalid reference format", "…: repository name must be lowercase").
 */
import { InvalidArgument } from '../../common/errors.js';

export interface Reference {
  /** Registry host as written (`docker.io`, `localhost:5000`). */
  domain: string;
  /** Repository path on that registry (`library/php`). */
  path: string;
  tag?: string;
  digest?: string;
}

const component = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainRe = new RegExp(`^(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const pathRe = new RegExp(`^${component}(?:/${component})*$`);
const tagRe = /^[\w][\w.-]{0,127}$/;
const digestRe = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

export const defaultDomain = 'docker.io';

export function parseReference(input: string): Reference {
  const bad = () => new InvalidArgument('invalid reference format');
  if (!input || input !== input.trim()) throw bad();
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestRe.test(digest)) throw bad();
    if (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest)) throw bad();
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagRe.test(tag)) throw bad();
  }
  let domain = defaultDomain;
  let path = rest;
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  if (slash >= 0 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first)) {
    domain = first;
    path = rest.slice(slash + 1);
    if (!domainRe.test(domain)) throw bad();
  }
  if (path.toLowerCase() !== path && pathRe.test(path.toLowerCase())) {
    throw new InvalidArgument('invalid reference format: repository name must be lowercase');
  }
  if (!pathRe.test(path)) throw bad();
  if (domain === 'index.docker.io') domain = defaultDomain;
  if (domain === defaultDomain && !path.includes('/')) path = `library/${path}`;
  if (`${domain}/${path}`.length > 255) throw new InvalidArgument('invalid reference format: repository name must not be more than 255 characters');
  if (!tag && !digest) tag = 'latest';
  return { domain, path, tag, digest };
}

/** `docker.io/library/php:latest`, `localhost:5000/app@sha256:…`. */
export function formatReference(r: Reference): string {
  return `${r.domain}/${r.path}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The short form Docker prints: `php:latest`, `my_user/app:1`, `localhost:5000/app:1`. */
export function familiarName(r: Pick<Reference, 'domain' | 'path'>): string {
  if (r.domain !== defaultDomain) return `${r.domain}/${r.path}`;
  return r.path.startsWith('library/') && r.path.split('/').length === 2 ? r.path.slice(8) : r.path;
}
