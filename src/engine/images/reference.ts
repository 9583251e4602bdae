import { InvalidArgument } from '../../common/errors.js';

/**
 * An image reference parsed as Docker does (distribution/reference):
 * `busybox` → docker.io/library/busybox:latest, `host:5000/a/b:t`, `name@sha256:…`.
 *
 *   const r = parseReference('busybox');   // { domain: 'docker.io', path: 'library/busybox', tag: 'latest' }
 *   familiar(r)                            // 'busybox:latest'
 */
export interface Reference {
  domain: string;
  /** Repository path below the domain, e.g. `library/busybox`. */
  path: string;
  tag?: string;
  digest?: string;
}

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const domain = `(?:${domainName}|${ipv6})(?::[0-9]+)?`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const namePat = `(?:${domain}/)?${pathComponent}(?:/${pathComponent})*`;
const referenceRe = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const anchoredName = new RegExp(`^(?:(${domain})/)?(${pathComponent}(?:/${pathComponent})*)$`);
const hex64 = /^[a-f0-9]{64}$/;

export const defaultDomain = 'docker.io';
export const defaultTag = 'latest';
const nameTotalLengthMax = 255;

/**
 * Parses a user-typed reference, normalising Docker Hub names. Throws
 * InvalidArgument with Docker's wording for malformed ones. Does not add a tag.
 */
export function parseReference(s: string): Reference {
  if (hex64.test(s)) throw new InvalidArgument(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  const { domain: d, remainder } = splitDockerDomain(s);
  const nameEnd = remainder.search(/[:@]/);
  const repoPath = nameEnd < 0 ? remainder : remainder.slice(0, nameEnd);
  if (repoPath.toLowerCase() !== repoPath) {
    throw new InvalidArgument(`invalid reference format: repository name (${repoPath}) must be lowercase`);
  }
  const m = referenceRe.exec(`${d}/${remainder}`);
  if (!m) throw new InvalidArgument('invalid reference format');
  if (m[1].length > nameTotalLengthMax) throw new InvalidArgument(`invalid reference format: repository name must not be more than ${nameTotalLengthMax} characters`);
  const nm = anchoredName.exec(m[1]);
  if (!nm) throw new InvalidArgument('invalid reference format');
  const ref: Reference = { domain: nm[1] ?? d, path: nm[2] };
  if (m[2]) ref.tag = m[2];
  if (m[3]) {
    if (!/^sha256:[a-f0-9]{64}$/.test(m[3])) throw new InvalidArgument(`invalid reference format: unsupported digest algorithm or length: ${m[3]}`);
    ref.digest = m[3];
  }
  return ref;
}

/** Splits the registry from the path the way Docker decides a first component is a host. */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const i = name.indexOf('/');
  let d: string;
  let remainder: string;
  if (i === -1 || (!/[.:]/.test(name.slice(0, i)) && name.slice(0, i) !== 'localhost' && name.slice(0, i).toLowerCase() === name.slice(0, i))) {
    d = defaultDomain;
    remainder = name;
  } else {
    d = name.slice(0, i);
    remainder = name.slice(i + 1);
  }
  if (d === 'index.docker.io') d = defaultDomain;
  if (d === defaultDomain && !remainder.includes('/')) remainder = `library/${remainder}`;
  return { domain: d, remainder };
}

/** Adds `:latest` when the reference has neither tag nor digest. */
export function withDefaultTag(r: Reference): Reference {
  return r.tag || r.digest ? r : { ...r, tag: defaultTag };
}

/** The repository name in full: `docker.io/library/busybox`. */
export function repositoryName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

/** The full canonical string: `docker.io/library/busybox:latest`. */
export function referenceString(r: Reference): string {
  return repositoryName(r) + (r.tag ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '');
}

/** The repository as users write it: `busybox`, `me/app`, `localhost:5000/a`. */
export function familiarName(r: Reference): string {
  if (r.domain !== defaultDomain) return repositoryName(r);
  return r.path.startsWith('library/') && r.path.split('/').length === 2 ? r.path.slice('library/'.length) : r.path;
}

/** As users write the whole reference: `busybox:latest`. */
export function familiar(r: Reference): string {
  return familiarName(r) + (r.tag ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '');
}

/** Parses the `repo`/`tag` pair of `POST /images/{name}/tag` and import into one tagged reference. */
export function parseRepoTag(repo: string, tag?: string): Reference {
  const r = parseReference(repo);
  if (r.digest) throw new InvalidArgument('refusing to create a tag with a digest reference');
  if (tag) {
    if (r.tag) throw new InvalidArgument(`invalid reference format: repository ${repo} already has a tag`);
    if (!new RegExp(`^${tagPat}$`).test(tag)) throw new InvalidArgument(`invalid tag format`);
    return { ...r, tag };
  }
  return withDefaultTag(r);
}
