import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Project, Service } from './model.js';
import { ComposeError, parseSource, readSource, type ComposeSource } from './source.js';
import { interpolateTree, type Env } from './interpolate.js';
import { readDotenv } from './dotenv.js';
import { checkShape, topSchema, isPlainObject, dotted } from './schema.js';
import { normalizeNetwork, normalizeService, normalizeVolume } from './normalize.js';
import { mergeService, setMergeTags, type MergeTags } from './merge.js';
import { finalizeProject } from './validate.js';

/** The file names looked up, in order of preference, in the working directory and its parents. */
export const defaultFileNames = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml', 'fig.yml'];

export interface LoadOptions {
  /** `-f` files in order; `-` reads `stdin`. Empty: discovery (or `COMPOSE_FILE`). */
  files?: string[];
  projectName?: string;
  projectDirectory?: string;
  /** `--env-file` files; default `.env` in the project directory. */
  envFiles?: string[];
  profiles?: string[];
  /** Services named on the command line: enabled even if their profiles are not. */
  enableServices?: string[];
  cwd?: string;
  /** The process environment (default `process.env`). */
  env?: Env;
  /** Text of `-f -`. */
  stdin?: string;
  /** `--compatibility`: `project_web_1` names whatever the file's version. */
  compatibility?: boolean;
}

/**
 * Loads, interpolates, merges, normalises and validates a compose project.
 * Throws a ComposeError naming file and line for anything wrong, before
 * anything is created.
 *
 *   const project = loadProject({ cwd: '/srv/app', files: ['compose.yaml', 'compose.prod.yaml'] });
 *   project.services.web.ports // → [{ target: 80, published: '8080', ... }]
 */
export function loadProject(opts: LoadOptions = {}): Project {
  const cwd = opts.cwd ?? process.cwd();
  const osEnv = opts.env ?? (process.env as Env);
  // COMPOSE_FILE may come from the environment or from the .env beside where compose runs.
  const early = { ...dotenvIfPresent(resolve(cwd, opts.projectDirectory ?? '.', '.env'), osEnv), ...osEnv };
  let files = opts.files?.length ? opts.files : early.COMPOSE_FILE ? early.COMPOSE_FILE.split(early.COMPOSE_PATH_SEPARATOR ?? ':') : [];
  files = files.length ? files.map((f) => (f === '-' ? '-' : resolve(cwd, f))) : discoverFiles(cwd);
  const projectDir = opts.projectDirectory ? resolve(cwd, opts.projectDirectory) : files[0] === '-' ? cwd : dirname(files[0]);

  const env = projectEnv(projectDir, cwd, opts.envFiles, osEnv);
  const loaded = files.map((f) => loadFile(f === '-' ? parseSource('-', opts.stdin ?? '') : readSource(f), env, projectDir));

  let services: Record<string, Service> = {};
  const rawNetworks: Record<string, any> = {};
  const rawVolumes: Record<string, any> = {};
  let name: string | undefined;
  for (const f of loaded) {
    for (const [k, s] of Object.entries(f.services)) services[k] = services[k] ? mergeService(services[k], s) : s;
    Object.assign(rawNetworks, f.networks);
    Object.assign(rawVolumes, f.volumes);
    if (typeof f.name === 'string') name = f.name;
  }

  const projectName = chooseProjectName(opts.projectName, env.COMPOSE_PROJECT_NAME, name, projectDir);
  const legacy = loaded.some((f) => f.legacy) || !!opts.compatibility;
  const active = new Set([...(opts.profiles ?? []), ...(env.COMPOSE_PROFILES ? env.COMPOSE_PROFILES.split(',').filter(Boolean) : [])]);
  const named = new Set(opts.enableServices ?? []);
  const disabled: Record<string, Service> = {};
  for (const [k, s] of Object.entries(services)) {
    if (s.profiles.length > 0 && !s.profiles.some((p) => active.has(p) || p === '*') && !active.has('*') && !named.has(k)) {
      disabled[k] = s;
    }
  }
  services = Object.fromEntries(Object.entries(services).filter(([k]) => !disabled[k]));

  const project: Project = {
    name: projectName, workingDir: projectDir, configFiles: files, legacy, services, disabled,
    networks: Object.fromEntries(Object.entries(rawNetworks).map(([k, v]) => [k, normalizeNetwork(projectName, k, v)])),
    volumes: Object.fromEntries(Object.entries(rawVolumes).map(([k, v]) => [k, normalizeVolume(projectName, k, v)])),
  };
  finalizeProject(project, loaded.map((f) => f.source), loaded.some((f) => f.legacy));
  return project;
}

/** The first directory, from `cwd` up, holding one of the default file names. */
export function discoverFiles(cwd: string): string[] {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    for (const n of defaultFileNames) {
      const p = join(dir, n);
      if (existsSync(p)) {
        // compose also applies an override file found beside the main one.
        const override = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yml', 'docker-compose.override.yaml']
          .map((o) => join(dir, o)).find((o) => existsSync(o));
        return override ? [p, override] : [p];
      }
    }
    if (dirname(dir) === dir) break;
  }
  throw new ComposeError(resolve(cwd), undefined,
    `no configuration file provided: not found (looked for ${defaultFileNames.join(', ')} here and in parent directories)`);
}

/** `.env` (or `--env-file`s) under the process environment, which wins. */
function projectEnv(projectDir: string, cwd: string, envFiles: string[] | undefined, osEnv: Env): Env {
  const out: Env = {};
  const list = envFiles?.length ? envFiles.map((f) => resolve(cwd, f)) : [join(projectDir, '.env')].filter((f) => existsSync(f));
  for (const f of list) {
    if (!existsSync(f)) throw new ComposeError(f, undefined, `couldn't find env file: ${f}`);
    try {
      Object.assign(out, readDotenv(f, { ...osEnv, ...out }));
    } catch (err) {
      throw new ComposeError(f, undefined, (err as Error).message);
    }
  }
  return { ...out, ...osEnv };
}

function dotenvIfPresent(file: string, osEnv: Env): Env {
  try {
    return existsSync(file) ? readDotenv(file, osEnv) : {};
  } catch (err) {
    throw new ComposeError(file, undefined, (err as Error).message);
  }
}

const validProjectName = /^[a-z0-9][a-z0-9_-]*$/;

export function chooseProjectName(flag: string | undefined, envName: string | undefined, fileName: string | undefined, dir: string): string {
  const explicit = flag || envName || fileName;
  if (explicit) {
    if (!validProjectName.test(explicit)) {
      throw new ComposeError(dir, undefined, `invalid project name "${explicit}": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`);
    }
    return explicit;
  }
  const n = normalizeProjectName(basename(dir));
  if (!n) throw new ComposeError(dir, undefined, `project name must not be empty: use -p to set one`);
  return n;
}

/** Directory name to project name: lowercase, only `[a-z0-9_-]`, starting with a letter or digit. */
export function normalizeProjectName(n: string): string {
  return n.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '');
}

interface LoadedFile {
  source: ComposeSource;
  legacy: boolean;
  name?: unknown;
  services: Record<string, Service>;
  networks: Record<string, unknown>;
  volumes: Record<string, unknown>;
}

const topKeys = ['version', 'name', 'services', 'networks', 'volumes', 'secrets', 'configs', 'include'];

/** Fig's format: services at the top level, no `version` or `services` key. */
export function isLegacyFormat(v: Record<string, unknown>): boolean {
  const keys = Object.keys(v).filter((k) => !k.startsWith('x-'));
  return keys.length > 0 && !keys.some((k) => topKeys.includes(k));
}

/** Parses, interpolates, type-checks and normalises one file (extends resolved), in the project's terms. */
function loadFile(src: ComposeSource, env: Env, baseDir: string, chain: string[] = []): LoadedFile & { raw: Record<string, any> } {
  if (!isPlainObject(src.value)) throw new ComposeError(src.file, 1, 'top-level object must be a mapping');
  let value = src.value;
  let source = src;
  const legacy = isLegacyFormat(value);
  if (legacy) {
    // Present the fig file in today's shape; line lookups drop the added `services` key.
    value = { services: value };
    const strip = (p: (string | number)[]) => (p[0] === 'services' ? p.slice(1) : p);
    source = { ...src, lineOf: (p) => src.lineOf(strip(p)), has: (p) => src.has(strip(p)), tags: src.tags.map((t) => ({ ...t, path: ['services', ...t.path] })) };
  }
  const fail = (path: (string | number)[], msg: string): never => { throw new ComposeError(source.file, source.lineOf(path), msg); };
  const raw = interpolateTree(value, env, [], (path, err) => fail(path, `${dotted(path)}: ${err.message}`)) as Record<string, any>;
  if (legacy) {
    // Version 1 put the Dockerfile name beside `build`.
    for (const svc of Object.values(raw.services as Record<string, any>)) {
      if (isPlainObject(svc) && typeof svc.build === 'string' && typeof svc.dockerfile === 'string') {
        svc.build = { context: svc.build, dockerfile: svc.dockerfile };
        delete svc.dockerfile;
      }
    }
  }
  // `!reset` removes a service attribute before checking; both tags steer the merge.
  const tagsByService = new Map<string, MergeTags>();
  for (const t of source.tags) {
    const [top, name, key] = t.path;
    if (top !== 'services' || t.path.length !== 3 || !isPlainObject(raw.services?.[name])) continue;
    const tags = tagsByService.get(String(name)) ?? { reset: new Set<string>(), override: new Set<string>() };
    tagsByService.set(String(name), tags);
    if (t.tag === '!reset') {
      tags.reset.add(String(key));
      delete raw.services[name][key];
    } else tags.override.add(String(key));
  }
  checkShape(raw, topSchema, [], fail);
  if (typeof raw.version === 'string' && !/^[123](\.\d+)?$/.test(raw.version)) {
    fail(['version'], `unsupported compose file version: ${raw.version}`);
  }
  const services: Record<string, Service> = {};
  for (const name of Object.keys(raw.services ?? {})) {
    // The name goes into container, image and network alias names.
    if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/.test(name)) fail(['services', name], `invalid service name "${name}": use only letters, digits, '.', '_' and '-'`);
    services[name] = resolveService(name, raw, source, env, baseDir, chain);
    const tags = tagsByService.get(name);
    if (tags) setMergeTags(services[name], tags);
  }
  return { source, legacy, name: raw.name, services, networks: raw.networks ?? {}, volumes: raw.volumes ?? {}, raw };
}

function resolveService(name: string, raw: Record<string, any>, source: ComposeSource, env: Env, baseDir: string, chain: string[]): Service {
  const svc = raw.services[name] ?? {};
  const fail = (path: (string | number)[], msg: string): never => { throw new ComposeError(source.file, source.lineOf(['services', name, ...path]), msg); };
  const own = normalizeService(name, svc, { baseDir, env, report: fail });
  if (svc.extends === undefined) return own;
  const ownTags = source.tags.filter((t) => t.path.length === 3 && t.path[0] === 'services' && t.path[1] === name);
  if (ownTags.length) {
    setMergeTags(own, { reset: new Set(ownTags.filter((t) => t.tag === '!reset').map((t) => String(t.path[2]))),
      override: new Set(ownTags.filter((t) => t.tag === '!override').map((t) => String(t.path[2]))) });
  }
  const ext = typeof svc.extends === 'string' ? { service: svc.extends } : svc.extends;
  const key = `${source.file}#${name}`;
  if (chain.includes(key)) fail(['extends'], `service "${name}": circular reference with extends`);
  let base: Service;
  if (ext.file) {
    const file = resolve(source.file === '-' ? baseDir : dirname(source.file), ext.file);
    if (!existsSync(file)) fail(['extends', 'file'], `service "${name}" extends ${file}: no such file or directory`);
    const other = readSource(file);
    // The extended file's relative paths are its own, not the project's.
    const loaded = loadFile(other, env, dirname(file), [...chain, key]);
    if (!loaded.services[ext.service]) fail(['extends'], `service "${name}" extends undefined service "${ext.service}" in ${file}`);
    base = loaded.services[ext.service];
  } else {
    if (!raw.services[ext.service]) fail(['extends'], `service "${name}" extends undefined service "${ext.service}"`);
    base = resolveService(ext.service, raw, source, env, baseDir, [...chain, key]);
  }
  return mergeService({ ...base, name }, own);
}
