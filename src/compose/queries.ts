import { randomBytes } from 'node:crypto';
import type { ComposeRunner } from './executor.js';
import type { ContainerSummary } from './engine.js';
import { createBody, imageName, L, oneoffName } from './container-spec.js';
import { containerNumber, nameOf } from './plan.js';
import { legacyCommand, psFormatted, psTableV1, psTableV2, tabulate } from './ps-format.js';
import { streamLogs, type LogOptions } from './logs.js';
import { withDependencies } from './validate.js';
import { parsePorts } from './syntax.js';
import { NotFound, InvalidArgument } from '../common/errors.js';

/**
 * The commands that look at or run inside a project's containers: `ps`,
 * `logs`, `top`, `port`, `images`, `exec`, `run`, `pull`, `push`. Each takes
 * a ComposeRunner (engine + project + output).
 *
 *   await ps(runner, { all: true })  // prints the table to runner.io.out
 */
export interface PsOptions { all?: boolean; quiet?: boolean; services?: boolean; format?: string; filterServices?: string[] }

export async function ps(r: ComposeRunner, opts: PsOptions = {}): Promise<void> {
  r.checkServices(opts.filterServices);
  // docker-compose 1.x listed stopped containers too; docker compose wants -a.
  const all = opts.all || r.project.legacy;
  // Both docker-compose 1.29 and docker compose list by container name.
  const list = (await r.containers({ all, services: opts.filterServices })).sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0));
  if (opts.quiet) return r.io.out(list.map((c) => `${c.Id}\n`).join(''));
  if (opts.services) return r.io.out([...new Set(list.map((c) => c.Labels[L.service]))].sort().map((s) => `${s}\n`).join(''));
  if (opts.format && opts.format !== 'table') return r.io.out(psFormatted(list, opts.format));
  if (!r.project.legacy) return r.io.out(psTableV2(list));
  // docker-compose 1.x's Command column is the config's entrypoint and cmd
  // joined by spaces, not the API's Command (which quotes arguments with spaces).
  const configs = await Promise.all(list.map((c) => r.engine.inspectContainer(c.Id).then((i) => i.Config, () => undefined)));
  r.io.out(psTableV1(list.map((c, i) => ({ ...c, Command: configs[i] ? legacyCommand(configs[i]) : c.Command }))));
}

export async function logs(r: ComposeRunner, services: string[], opts: LogOptions = {}): Promise<void> {
  r.checkServices(services);
  const list = (await r.containers({ services })).sort((a, b) => nameOf(b).localeCompare(nameOf(a)));
  if (r.project.legacy) r.io.out(`Attaching to ${list.map(nameOf).join(', ')}\n`);
  await streamLogs(r.engine, list, { ...opts, legacy: r.project.legacy }, (t) => r.io.out(t));
}

export async function top(r: ComposeRunner, services: string[]): Promise<void> {
  r.checkServices(services);
  for (const c of (await r.containers({ services, all: false })).sort((a, b) => nameOf(a).localeCompare(nameOf(b)))) {
    const t = await r.engine.top(c.Id);
    r.io.out(`${nameOf(c)}\n${tabulate(t.Titles, t.Processes)}\n`);
  }
}

/** Finds container `index` (1-based) of a service, as `exec --index` and `port --index` do. */
export async function serviceContainer(r: ComposeRunner, service: string, index = 1, running = true): Promise<ContainerSummary> {
  r.checkServices([service]);
  const list = await r.containers({ services: [service], all: !running });
  const c = list.find((x) => containerNumber(x) === index);
  if (!c) throw new NotFound(list.length === 0 ? `service "${service}" is not running` : `service "${service}" is not running container #${index}`);
  return c;
}

export async function port(r: ComposeRunner, service: string, privatePort: string, opts: { protocol?: string; index?: number } = {}): Promise<void> {
  const c = await serviceContainer(r, service, opts.index);
  const proto = opts.protocol ?? 'tcp';
  const p = c.Ports.find((x) => x.PrivatePort === Number(privatePort) && x.Type === proto && x.PublicPort);
  if (!p) throw new NotFound(`no port ${privatePort}/${proto} for container ${nameOf(c)}`);
  r.io.out(`${p.IP || '0.0.0.0'}:${p.PublicPort}\n`);
}

export async function images(r: ComposeRunner, services: string[] = [], quiet = false): Promise<void> {
  const rows: string[][] = [];
  for (const c of (await r.containers({ services })).sort((a, b) => nameOf(a).localeCompare(nameOf(b)))) {
    const img = await r.engine.inspectImage(c.Image);
    if (!img) continue;
    const [repo, tag = 'latest'] = splitTag(c.Image);
    rows.push([nameOf(c), repo, tag, img.Id.replace(/^sha256:/, '').slice(0, 12), humanSize(img.Size ?? 0)]);
  }
  if (quiet) return r.io.out([...new Set(rows.map((x) => x[3]))].map((id) => `${id}\n`).join(''));
  r.io.out(tabulate(['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'], rows));
}

function splitTag(ref: string): [string, string | undefined] {
  const i = ref.lastIndexOf(':');
  return i > ref.lastIndexOf('/') ? [ref.slice(0, i), ref.slice(i + 1)] : [ref, undefined];
}

function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${Number(n.toPrecision(3))}${units[i]}`;
}

export interface ExecOptions { index?: number; tty?: boolean; interactive?: boolean; env?: string[]; workdir?: string; user?: string; privileged?: boolean; detach?: boolean }

export async function exec(r: ComposeRunner, service: string, cmd: string[], opts: ExecOptions = {}): Promise<number> {
  const c = await serviceContainer(r, service, opts.index);
  return r.engine.exec(c.Id, { cmd, tty: opts.tty ?? false, interactive: opts.interactive ?? true, env: opts.env,
    workingDir: opts.workdir, user: opts.user, privileged: opts.privileged, detach: opts.detach });
}

export interface RunOptions {
  rm?: boolean; detach?: boolean; noDeps?: boolean; env?: string[]; publish?: string[]; servicePorts?: boolean;
  entrypoint?: string; name?: string; user?: string; workdir?: string; tty?: boolean; interactive?: boolean; labels?: string[];
}

/** A one-off container of a service (`run`): dependencies up first, the service's ports only with `--service-ports`. */
export async function run(r: ComposeRunner, service: string, cmd: string[], opts: RunOptions = {}): Promise<number> {
  r.checkServices([service]);
  const s = r.project.services[service];
  const deps = withDependencies(r.project.services, [service]).filter((d) => d !== service);
  if (!opts.noDeps && deps.length) await r.up({ services: deps, detach: true, noRecreate: true });
  await r.ensureNetworks(Object.keys(s.networks));
  await r.ensureVolumes(s.volumes.filter((v) => v.type === 'volume' && v.source && r.project.volumes[v.source]).map((v) => v.source!));
  await r.ensureImages([service], {});
  const env = { ...s.environment };
  for (const e of opts.env ?? []) {
    const i = e.indexOf('=');
    env[i < 0 ? e : e.slice(0, i)] = i < 0 ? (process.env[e] ?? null) : e.slice(i + 1);
  }
  let ports = opts.servicePorts ? s.ports : [];
  try {
    if (opts.publish?.length) ports = opts.publish.flatMap((p) => parsePorts(p));
  } catch (err) {
    throw new InvalidArgument((err as Error).message);
  }
  const one = {
    ...s, environment: env, ports, container_name: undefined,
    ...(cmd.length ? { command: cmd } : {}),
    ...(opts.entrypoint !== undefined ? { entrypoint: opts.entrypoint === '' ? [] : [opts.entrypoint] } : {}),
    ...(opts.user ? { user: opts.user } : {}),
    ...(opts.workdir ? { working_dir: opts.workdir } : {}),
    tty: opts.tty ?? !opts.detach, stdin_open: opts.interactive ?? !opts.detach,
    labels: { ...s.labels, ...Object.fromEntries((opts.labels ?? []).map((l) => [l.split('=')[0], l.split('=').slice(1).join('=')])) },
  };
  const names: Record<string, string[]> = {};
  for (const c of await r.containers()) (names[c.Labels[L.service]] ??= []).push(nameOf(c));
  const name = opts.name ?? oneoffName(r.project, s, randomBytes(6).toString('hex'));
  const body = createBody(r.project, one, 1, names, { oneoff: true, name });
  body.HostConfig.AutoRemove = !!opts.rm && !!opts.detach;
  const id = await r.create(name, body, service);
  if (opts.detach) {
    await r.engine.startContainer(id);
    r.io.out(`${name}\n`);
    return 0;
  }
  try {
    return await r.engine.runAttached(id, { tty: !!one.tty, interactive: !!one.stdin_open });
  } finally {
    if (opts.rm) await r.engine.removeContainer(id, { force: true, v: true });
  }
}

export async function pull(r: ComposeRunner, services: string[], opts: { ignoreFailures?: boolean } = {}): Promise<void> {
  r.checkServices(services);
  const names = services.length ? services : Object.keys(r.project.services);
  for (const n of names) {
    const s = r.project.services[n];
    if (!s.image) continue;
    try {
      await r.engine.pullImage(s.image);
      r.progress.done('Image', s.image, 'Pulled');
    } catch (err) {
      // A service that is also built may have no upstream image: compose warns and goes on.
      if (!opts.ignoreFailures && !s.build) throw err;
      r.progress.failed('Image', s.image, 'Pulled', (err as Error).message);
    }
  }
}

export async function push(r: ComposeRunner, services: string[]): Promise<void> {
  r.checkServices(services);
  const names = services.length ? services : Object.keys(r.project.services);
  for (const n of names) {
    const s = r.project.services[n];
    if (!s.build || !s.image) continue;
    await r.engine.pushImage(imageName(r.project, s));
    r.progress.done('Image', s.image, 'Pushed');
  }
}
