import * as path from 'node:path';
import { InvalidArgument } from '../../common/errors.js';
import type { ContainerConfig, HostConfig } from '../containers/types.js';
import { capabilitySet } from './capabilities.js';
import { defaultSeccomp, seccompFromProfile, type Seccomp } from './seccomp.js';
import {
  defaultDeviceRules, defaultInitPath, defaultMaskedPaths, defaultMounts, defaultPath, defaultReadonlyPaths,
  defaultShmSize, initPathInContainer,
} from './defaults.js';
import { allHostDevices, hostDevice } from './devices.js';
import type { Device, DeviceRule, Mount, Namespace, Spec } from './oci-spec.js';
import { cgroupResources, ownHardLimits, rlimits } from './resources.js';
import { resolveUser, type ResolvedUser } from './user.js';

/** The parts of an image's config that shape how a container runs. */
export interface ImageRunConfig {
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  User?: string;
}

/** The network namespace a container joins: a new one, the host's, or an existing one by path. */
export type NetworkNamespace = { mode: 'none' } | { mode: 'host' } | { mode: 'path'; path: string };

export interface SpecInput {
  /** Container ID: names the cgroup (`/berth/<id>`) and is the default hostname's source. */
  id: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  image?: ImageRunConfig;
  /** Absolute path of the prepared root filesystem (e.g. an overlay mount). */
  rootfs: string;
  /**
   * Mounts the caller prepared: binds, volumes, and the generated
   * /etc/hosts, /etc/hostname and /etc/resolv.conf. One with the same
   * destination as a default mount (say /dev/shm) replaces it.
   */
  mounts?: Mount[];
  network?: NetworkNamespace;
  /** Namespaces to join instead of creating (`--pid container:x`, `--ipc container:x`): type → path. */
  joinNamespaces?: Partial<Record<'pid' | 'ipc' | 'uts', string>>;
  /** Host path of the init used for `--init` (default Debian's tini-static). */
  initPath?: string;
  /** The daemon's own hard rlimits (default: read from /proc/self/limits). */
  hardLimits?: Map<string, number>;
  /** Whether the host can limit swap (cgroup v1 memory.memsw.*). */
  swapAccounting?: boolean;
}

export interface BuiltSpec {
  spec: Spec;
  /** The resolved user, for callers that create files the process must own (e.g. the working dir). */
  user: ResolvedUser;
}

/**
 * Builds the OCI runtime spec (a bundle's config.json) for a Docker container:
 * Docker's defaults (capabilities, masked paths, pseudo filesystems, device
 * allowlist) adjusted by its HostConfig, the command and environment merged
 * from the image, the user resolved from the image's /etc/passwd.
 *
 *   const { spec } = await buildSpec({
 *     id, rootfs: '/var/lib/berth/overlay/abc/merged',
 *     config: { Cmd: ['echo', 'hi'], Tty: false },
 *     hostConfig: { CapAdd: ['NET_ADMIN'], Memory: 64 << 20 },
 *     image: { Env: ['PATH=/bin'], Cmd: ['sh'] },
 *     network: { mode: 'path', path: '/run/netns/berth-abc' },
 *   });
 *
 * Throws InvalidArgument with Docker's message for bad input (unknown user,
 * conflicting cpu flags, relative working dir, …); touches nothing on disk.
 */
export async function buildSpec(input: SpecInput): Promise<BuiltSpec> {
  const { config: cc, hostConfig: hc, image = {} } = input;
  const privileged = !!hc.Privileged;

  const args = commandLine(cc, image);
  const workingDir = cc.WorkingDir || image.WorkingDir || '/';
  if (!path.isAbsolute(workingDir)) {
    throw new InvalidArgument(`the working directory '${workingDir}' is invalid, it needs to be an absolute path`);
  }
  const user = await resolveUser(input.rootfs, cc.User || image.User || '', (hc.GroupAdd ?? []).filter(Boolean));
  const hostname = cc.Hostname || input.id.slice(0, 12);
  const { nnp: noNewPrivileges, seccomp: seccompOpt } = parseSecurityOpts(hc.SecurityOpt ?? []);
  const caps = capabilitySet({ add: hc.CapAdd, drop: hc.CapDrop, privileged });
  const seccomp = seccompFor(seccompOpt, caps, privileged);

  const env = containerEnv({ hostname, tty: !!cc.Tty, home: user.home, imageEnv: image.Env, env: cc.Env });

  const mounts = mergeMounts(defaultMounts(shmSize(hc.ShmSize), privileged), [
    ...tmpfsMounts(hc.Tmpfs),
    ...(input.mounts ?? []),
  ]);

  let processArgs = args;
  if (hc.Init) {
    processArgs = [initPathInContainer, '--', ...args];
    mounts.push({ destination: initPathInContainer, type: 'bind', source: input.initPath ?? defaultInitPath, options: ['rbind', 'ro'] });
  }

  const { devices, rules } = await deviceConfig(hc, privileged);
  const resources = cgroupResources(hc, { swapAccounting: input.swapAccounting ?? true });
  resources.devices = rules;

  const spec: Spec = {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: !!cc.Tty,
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
      args: processArgs,
      env,
      cwd: workingDir,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: rlimits(hc.Ulimits, input.hardLimits ?? ownHardLimits()),
      noNewPrivileges,
      ...(hc.OomScoreAdj ? { oomScoreAdj: validOomScore(hc.OomScoreAdj) } : {}),
    },
    root: { path: input.rootfs, readonly: !!hc.ReadonlyRootfs },
    hostname,
    ...(cc.Domainname ? { domainname: cc.Domainname } : {}),
    mounts,
    linux: {
      namespaces: namespaces(input, hc),
      devices,
      resources,
      cgroupsPath: `/berth/${input.id}`,
      sysctl: validSysctls(hc.Sysctls ?? {}, input.network?.mode === 'host'),
      maskedPaths: privileged ? [] : [...(hc.MaskedPaths ?? defaultMaskedPaths)],
      readonlyPaths: privileged ? [] : [...(hc.ReadonlyPaths ?? defaultReadonlyPaths)],
      rootfsPropagation: 'rprivate',
      ...(seccomp ? { seccomp } : {}),
    },
  };
  return { spec, user };
}

/**
 * Entrypoint + Cmd as Docker combines them: the container's own values win;
 * overriding the entrypoint drops the image's Cmd.
 */
export function commandLine(cc: ContainerConfig, image: ImageRunConfig): string[] {
  const entrypoint = cc.Entrypoint ?? image.Entrypoint ?? [];
  const cmd = cc.Cmd ?? (cc.Entrypoint ? [] : image.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new InvalidArgument('no command specified');
  return args;
}

/**
 * The process environment as Docker builds it: PATH (when nobody set one),
 * HOSTNAME, TERM for a terminal, then the image's and the container's
 * variables (a later one replaces an earlier one of the same name in place), HOME last
 * when unset.
 */
export function containerEnv(o: { hostname: string; tty: boolean; home: string; imageEnv?: string[] | null; env?: string[] | null }): string[] {
  const out = new Map<string, string>();
  const set = (kv: string) => {
    const i = kv.indexOf('=');
    const key = i < 0 ? kv : kv.slice(0, i);
    if (key === '') throw new InvalidArgument(`invalid environment variable: ${kv}`);
    // Docker drops a bare NAME (no '=') that the client could not resolve.
    if (i < 0) return;
    // Replacing keeps the variable's place, as Docker's ReplaceOrAppendEnvValues does.
    out.set(key, kv);
  };
  const user = [...(o.imageEnv ?? []), ...(o.env ?? [])];
  if (!user.some((kv) => kv.startsWith('PATH='))) set(`PATH=${defaultPath}`);
  set(`HOSTNAME=${o.hostname}`);
  if (o.tty) set('TERM=xterm');
  for (const kv of user) set(kv);
  if (!out.has('HOME')) set(`HOME=${o.home}`);
  return [...out.values()];
}

function shmSize(v: number | undefined): number {
  if (v === undefined || v === 0) return defaultShmSize;
  if (v < 0) throw new InvalidArgument('SHM size can not be less than 0');
  return v;
}

/** `--tmpfs /run:rw,size=64m` as Docker mounts it (noexec, nosuid, nodev unless overridden). */
function tmpfsMounts(tmpfs: Record<string, string> | null | undefined): Mount[] {
  return Object.entries(tmpfs ?? {}).map(([dest, opts]) => {
    if (!path.isAbsolute(dest)) throw new InvalidArgument(`invalid mount config for type "tmpfs": invalid mount path: '${dest}' mount path must be absolute`);
    const extra = opts ? opts.split(',').map((o) => o.trim()).filter(Boolean) : [];
    const base = ['noexec', 'nosuid', 'nodev'].filter((o) => !extra.includes(o.replace(/^no/, '')));
    return { destination: dest, type: 'tmpfs', source: 'tmpfs', options: [...base, ...extra] };
  });
}

/** Defaults first, then the caller's mounts, parents before children; same destination: the caller wins. */
function mergeMounts(defaults: Mount[], own: Mount[]): Mount[] {
  for (const m of own) {
    if (!path.isAbsolute(m.destination)) throw new InvalidArgument(`invalid mount path: '${m.destination}' mount path must be absolute`);
  }
  const dests = new Set(own.map((m) => path.normalize(m.destination)));
  const kept = defaults.filter((m) => !dests.has(m.destination));
  const depth = (m: Mount) => path.normalize(m.destination).split('/').filter(Boolean).length;
  const sorted = own.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m) - depth(b.m) || a.i - b.i).map((x) => x.m);
  return [...kept, ...sorted];
}

function namespaces(input: SpecInput, hc: HostConfig): Namespace[] {
  const ns: Namespace[] = [{ type: 'mount' }];
  const join = input.joinNamespaces ?? {};
  const add = (type: 'pid' | 'ipc' | 'uts', mode: string | undefined) => {
    if (join[type]) ns.push({ type, path: join[type] });
    else if (mode !== 'host') ns.push({ type });
  };
  add('pid', hc.PidMode);
  add('ipc', hc.IpcMode);
  add('uts', hc.UTSMode);
  const net = input.network ?? { mode: 'none' };
  if (net.mode === 'path') ns.push({ type: 'network', path: net.path });
  else if (net.mode === 'none') ns.push({ type: 'network' });
  return ns;
}

async function deviceConfig(hc: HostConfig, privileged: boolean): Promise<{ devices: Device[]; rules: DeviceRule[] }> {
  if (privileged) return { devices: await allHostDevices(), rules: [{ allow: true, access: 'rwm' }] };
  const devices: Device[] = [];
  const rules: DeviceRule[] = [...defaultDeviceRules];
  for (const d of hc.Devices ?? []) {
    const { device, rule } = await hostDevice(d.PathOnHost, d.PathInContainer, d.CgroupPermissions || 'rwm');
    devices.push(device);
    rules.push(rule);
  }
  return { devices, rules };
}

/**
 * Docker's rule: privileged containers and `seccomp=unconfined` run unfiltered;
 * `seccomp=<json>` is a custom profile; otherwise the default profile.
 */
function seccompFor(opt: string | undefined, caps: string[], privileged: boolean): Seccomp | undefined {
  if (opt === 'unconfined') return undefined;
  if (opt !== undefined && opt !== '' && opt !== 'builtin') return seccompFromProfile(opt, caps);
  if (privileged) return undefined;
  return defaultSeccomp(caps);
}

/** Reads `--security-opt`: noNewPrivileges and the seccomp value; rejects options Docker does not know. */
function parseSecurityOpts(opts: string[]): { nnp: boolean; seccomp?: string } {
  let nnp = false;
  let seccomp: string | undefined;
  for (const opt of opts) {
    const [key, value] = opt.split(/[=:](.*)/s, 2);
    switch (key) {
      case 'no-new-privileges':
        if (value === undefined || value === '' || value === 'true') nnp = true;
        else if (value === 'false') nnp = false;
        else throw new InvalidArgument(`invalid --security-opt 2: "${opt}"`);
        break;
      case 'seccomp':
        seccomp = value ?? '';
        break;
      case 'apparmor':
      case 'label':
      case 'systempaths':
        // Accepted for compatibility; Berth applies no LSM profile.
        break;
      default:
        throw new InvalidArgument(`invalid --security-opt 1: "${opt}"`);
    }
  }
  return { nnp, seccomp };
}

function validOomScore(v: number): number {
  if (v < -1000 || v > 1000) throw new InvalidArgument(`Invalid value ${v}, range for oom score adj is [-1000, 1000]`);
  return v;
}

/** Only namespaced sysctls may be set, as in Docker; net.* not with the host's network. */
function validSysctls(s: Record<string, string>, hostNetwork: boolean): Record<string, string> {
  const ipc = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];
  for (const key of Object.keys(s)) {
    const ok = ipc.includes(key) || key.startsWith('fs.mqueue.') || (key.startsWith('net.') && !hostNetwork);
    if (!ok) throw new InvalidArgument(`sysctl '${key}' is not allowed${key.startsWith('net.') ? ' in host network mode' : ''}`);
  }
  return { ...s };
}
