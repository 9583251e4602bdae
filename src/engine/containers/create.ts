import * as os from 'node:os';
import * as path from 'node:path';
import { Conflict, InvalidArgument } from '../../common/errors.js';
import { validName } from '../../common/ids.js';
import { initialState, type ContainerRecord } from './record.js';
import type { SpecInput, SpecMount } from './ports.js';
import type { ContainerConfig, HostConfig } from './types.js';

/**
 * Merges the image's config under the one the user gave, as Docker does at
 * create time: user values win, Env is merged by key, an explicit Entrypoint
 * discards the image's Cmd.
 */
export function mergeImageConfig(user: ContainerConfig, image: ContainerConfig): ContainerConfig {
  const merged: ContainerConfig = { ...user };
  merged.Env = mergeEnv(image.Env ?? [], user.Env ?? []);
  const userEntrypoint = user.Entrypoint && user.Entrypoint.length > 0 ? user.Entrypoint : undefined;
  // `--entrypoint ""` arrives as [""]: it clears the image entrypoint.
  const clearsEntrypoint = Array.isArray(user.Entrypoint) && user.Entrypoint.length === 1 && user.Entrypoint[0] === '';
  if (clearsEntrypoint) merged.Entrypoint = null;
  else if (userEntrypoint) merged.Entrypoint = userEntrypoint;
  else merged.Entrypoint = image.Entrypoint ?? null;
  if (user.Cmd && user.Cmd.length > 0) merged.Cmd = user.Cmd;
  else if (!userEntrypoint && !clearsEntrypoint) merged.Cmd = image.Cmd ?? null;
  else merged.Cmd = user.Cmd ?? null;
  merged.WorkingDir = user.WorkingDir || image.WorkingDir || '';
  merged.User = user.User || image.User || '';
  merged.ExposedPorts = { ...(image.ExposedPorts ?? {}), ...(user.ExposedPorts ?? {}) };
  merged.Volumes = { ...(image.Volumes ?? {}), ...(user.Volumes ?? {}) };
  merged.Labels = { ...(image.Labels ?? {}), ...(user.Labels ?? {}) };
  merged.StopSignal = user.StopSignal || image.StopSignal || undefined;
  merged.Healthcheck = user.Healthcheck ?? image.Healthcheck;
  merged.OnBuild = null;
  return merged;
}

function mergeEnv(base: string[], over: string[]): string[] {
  const out = new Map<string, string>();
  for (const kv of [...base, ...over]) {
    const eq = kv.indexOf('=');
    out.set(eq < 0 ? kv : kv.slice(0, eq), kv);
  }
  return [...out.values()];
}

/** The command line of the container: Entrypoint followed by Cmd. */
export function commandLine(config: ContainerConfig): string[] {
  return [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
}

/** Checks a create request the way Docker's daemon does before doing anything. */
export function validateCreate(config: ContainerConfig, host: HostConfig): void {
  const policy = host.RestartPolicy?.Name ?? '';
  if (!['', 'no', 'always', 'on-failure', 'unless-stopped'].includes(policy)) {
    throw new InvalidArgument(`invalid restart policy: unknown policy '${policy}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
  if (host.AutoRemove && policy !== '' && policy !== 'no') {
    throw new InvalidArgument('conflicting options: cannot specify both --restart and --rm');
  }
  const retries = host.RestartPolicy?.MaximumRetryCount ?? 0;
  if (retries < 0) throw new InvalidArgument('invalid restart policy: maximum retry count cannot be negative');
  if (retries > 0 && policy !== 'on-failure') {
    throw new InvalidArgument(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  }
  if (host.Memory && host.Memory > 0 && host.Memory < 6 * 1024 * 1024) {
    throw new InvalidArgument('Minimum memory limit allowed is 6MB');
  }
  if (config.StopSignal !== undefined && config.StopSignal !== '' && !parseSignal(config.StopSignal)) {
    throw new InvalidArgument(`Invalid signal: ${config.StopSignal}`);
  }
}

const signals: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12, PIPE: 13,
  ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24,
  XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, PWR: 30, SYS: 31,
};

/** Parses `SIGTERM`, `TERM`, `15`, `SIGRTMIN+3` into a number, or undefined when invalid. */
export function parseSignal(s: string): number | undefined {
  const t = s.trim().toUpperCase().replace(/^SIG/, '');
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    return n > 0 && n <= 64 ? n : undefined;
  }
  const rt = /^RTMIN(?:\+(\d+))?$/.exec(t) ?? /^RTMAX(?:-(\d+))?$/.exec(t);
  if (rt) return t.startsWith('RTMIN') ? 34 + Number(rt[1] ?? 0) : 64 - Number(rt[1] ?? 0);
  return signals[t];
}

/** Docker's defaults for what a create request left out of HostConfig. */
export function normalizeHostConfig(h: HostConfig): HostConfig {
  return {
    NetworkMode: 'default',
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    LogConfig: { Type: 'json-file', Config: {} },
    ...h,
  };
}

/**
 * The spec builder's input for a starting container: its config, rootfs, the
 * generated /etc files, and (when no network service runs the namespace) the
 * network mode resolved here.
 */
export function specInputFor(rec: ContainerRecord, rootfs: string, find: (ref: string) => ContainerRecord, networked: boolean): SpecInput {
  const mounts: SpecMount[] = [
    { destination: '/etc/hostname', source: rec.HostnamePath, type: 'bind', options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', source: rec.HostsPath, type: 'bind', options: ['rbind', 'rprivate'] },
    { destination: '/etc/resolv.conf', source: rec.ResolvConfPath, type: 'bind', options: ['rbind', 'rprivate'] },
  ];
  const mode = networked ? '' : rec.HostConfig.NetworkMode ?? '';
  let network: SpecInput['network'] = { mode: 'new' };
  if (mode === 'host') network = { mode: 'host' };
  else if (mode.startsWith('container:')) {
    const other = find(mode.slice('container:'.length));
    if (!other.State.Running) throw new Conflict(`cannot join network of a non running container: ${other.Id}`);
    network = { mode: 'path', path: `/proc/${other.State.Pid}/ns/net` };
  }
  return { id: rec.Id, config: rec.Config, hostConfig: rec.HostConfig, rootfs, mounts, network };
}

/** Refuses a name Docker refuses, or one another container holds (`owner`), with Docker's texts. */
export function checkContainerName(name: string, owner: ContainerRecord | undefined): void {
  if (!validName.test(name)) throw new InvalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  if (owner) {
    throw new Conflict(`Conflict. The container name "/${name.replace(/^\//, '')}" is already in use by container "${owner.Id}". You have to remove (or rename) that container to be able to reuse that name.`);
  }
}

/**
 * The record of a container just created: what inspect shows before its first
 * start. `config` is already merged with the image's; its files live in `dir`.
 */
export function newContainerRecord(o: {
  id: string; name: string; config: ContainerConfig; hostConfig: HostConfig; imageId: string; argv: string[]; dir: string;
  networking?: ContainerRecord['NetworkingConfig'];
}): ContainerRecord {
  const { id, config, hostConfig, dir } = o;
  return {
    Id: id,
    Name: '/' + o.name.replace(/^\//, ''),
    Created: new Date().toISOString(),
    Path: o.argv[0],
    Args: o.argv.slice(1),
    Image: o.imageId,
    Config: { ...config, Hostname: config.Hostname || (hostConfig.NetworkMode === 'host' ? os.hostname() : id.slice(0, 12)) },
    HostConfig: normalizeHostConfig(hostConfig),
    State: initialState(),
    RestartCount: 0,
    ManuallyStopped: false,
    HasBeenStartedBefore: false,
    LogPath: path.join(dir, `${id}-json.log`),
    HostnamePath: path.join(dir, 'hostname'),
    HostsPath: path.join(dir, 'hosts'),
    ResolvConfPath: path.join(dir, 'resolv.conf'),
    ...(o.networking ? { NetworkingConfig: o.networking } : {}),
  };
}
