import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { goJsonSyntaxError } from '../../common/go-json.js';
import { Option, type Command } from 'commander';
import {
  UsageError, checkReference, durationNanos, expandEnv, keyValues, parseBool, parseIntFlag, parseRamBytes, readEnvFile,
} from './parse-values.js';
import { parsePorts, parseExpose, parseVolume, parseMount, parseUlimit, parseRestart, parseDevice } from './container-specs.js';

/** The options commander collects for `run`/`create` (camelCase of the flag names). */
export interface ContainerFlags {
  [k: string]: unknown;
  attach?: string[]; interactive?: boolean; tty?: boolean; detach?: boolean; rm?: boolean; name?: string;
  env?: string[]; envFile?: string[]; label?: string[]; labelFile?: string[]; workdir?: string; user?: string;
  entrypoint?: string; hostname?: string; domainname?: string; restart?: string; init?: boolean;
  stopSignal?: string; stopTimeout?: string; privileged?: boolean; capAdd?: string[]; capDrop?: string[];
  readOnly?: boolean; securityOpt?: string[]; network?: string; networkAlias?: string[]; ip?: string;
  net?: string; publish?: string[]; port?: string[]; publishAll?: boolean; expose?: string[]; volume?: string[]; mount?: string[];
  volumesFrom?: string[]; tmpfs?: string[]; ulimit?: string[]; memory?: string; memorySwap?: string;
  memoryReservation?: string; cpus?: string; cpuShares?: string; cpusetCpus?: string; cpuPeriod?: string;
  cpuQuota?: string; pidsLimit?: string; shmSize?: string; oomKillDisable?: boolean; oomScoreAdj?: string;
  dns?: string[]; dnsSearch?: string[]; dnsOption?: string[]; addHost?: string[]; link?: string[];
  device?: string[]; sysctl?: string[]; logDriver?: string; logOpt?: string[]; runtime?: string;
  groupAdd?: string[]; ipc?: string; pid?: string; uts?: string; macAddress?: string;
  healthCmd?: string; healthInterval?: string; healthTimeout?: string; healthRetries?: string;
  healthStartPeriod?: string; noHealthcheck?: boolean; platform?: string; pull?: string;
  detachKeys?: string; sigProxy?: string | boolean; cidfile?: string;
}

/** What `POST /containers/create` takes: Config fields at top level, plus HostConfig and NetworkingConfig. */
export interface CreateBody {
  [k: string]: any;
  HostConfig: Record<string, any>;
  NetworkingConfig?: { EndpointsConfig: Record<string, any> };
}

const collect = (v: string, prev: string[] = []) => prev.concat(v);

/**
 * Declares the flags `run` and `create` share, with Docker's names and types
 * (the `<type>` shows in help as Docker's does: `-e, --env list`).
 */
export function addContainerFlags(cmd: Command): Command {
  const list = (flags: string, desc: string) => cmd.option(flags, desc, collect, []);
  list('-a, --attach <list>', 'Attach to STDIN, STDOUT or STDERR');
  list('--add-host <list>', 'Add a custom host-to-IP mapping (host:ip)');
  list('--cap-add <list>', 'Add Linux capabilities');
  list('--cap-drop <list>', 'Drop Linux capabilities');
  cmd.option('--cidfile <string>', 'Write the container ID to the file');
  cmd.option('--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period');
  cmd.option('--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota');
  cmd.option('-c, --cpu-shares <int>', 'CPU shares (relative weight)');
  cmd.option('--cpus <decimal>', 'Number of CPUs');
  cmd.option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)');
  list('--device <list>', 'Add a host device to the container');
  list('--dns <list>', 'Set custom DNS servers');
  list('--dns-option <list>', 'Set DNS options');
  list('--dns-search <list>', 'Set custom DNS search domains');
  cmd.option('--domainname <string>', 'Container NIS domain name');
  cmd.option('--entrypoint <string>', 'Overwrite the default ENTRYPOINT of the image');
  list('-e, --env <list>', 'Set environment variables');
  list('--env-file <list>', 'Read in a file of environment variables');
  list('--expose <list>', 'Expose a port or a range of ports');
  list('--group-add <list>', 'Add additional groups to join');
  cmd.option('--health-cmd <string>', 'Command to run to check health');
  cmd.option('--health-interval <duration>', 'Time between running the check (ms|s|m|h)');
  cmd.option('--health-retries <int>', 'Consecutive failures needed to report unhealthy');
  cmd.option('--health-start-period <duration>', 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h)');
  cmd.option('--health-timeout <duration>', 'Maximum time to allow one check to run (ms|s|m|h)');
  cmd.option('-h, --hostname <string>', 'Container host name');
  cmd.option('--init', 'Run an init inside the container that forwards signals and reaps processes');
  cmd.option('-i, --interactive', 'Keep STDIN open even if not attached');
  cmd.option('--ip <string>', 'IPv4 address (e.g., 172.30.100.104)');
  cmd.option('--ipc <string>', 'IPC mode to use');
  list('-l, --label <list>', 'Set meta data on a container');
  list('--label-file <list>', 'Read in a line delimited file of labels');
  list('--link <list>', 'Add link to another container');
  cmd.option('--log-driver <string>', 'Logging driver for the container');
  list('--log-opt <list>', 'Log driver options');
  cmd.option('--mac-address <string>', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)');
  cmd.option('-m, --memory <bytes>', 'Memory limit');
  cmd.option('--memory-reservation <bytes>', 'Memory soft limit');
  cmd.option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap");
  list('--mount <mount>', 'Attach a filesystem mount to the container');
  cmd.option('--name <string>', 'Assign a name to the container');
  cmd.option('--network <network>', 'Connect a container to a network');
  cmd.addOption(new Option('--net <network>', 'Connect a container to a network').hideHelp());
  list('--network-alias <list>', 'Add network-scoped alias for the container');
  cmd.option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK');
  cmd.option('--oom-kill-disable', 'Disable OOM Killer');
  cmd.option('--oom-score-adj <int>', "Tune host's OOM preferences (-1000 to 1000)");
  cmd.option('--pid <string>', 'PID namespace to use');
  cmd.option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)');
  cmd.option('--platform <string>', 'Set platform if server is multi-platform capable');
  cmd.option('--privileged', 'Give extended privileges to this container');
  list('-p, --publish <list>', "Publish a container's port(s) to the host");
  // The seed (a 2014 talk) writes `--port 8000:80`; accept it, unlisted, as --publish.
  cmd.addOption(new Option('--port <list>', "Publish a container's port(s) to the host").argParser(collect).default([]).hideHelp());
  cmd.option('-P, --publish-all', 'Publish all exposed ports to random ports');
  cmd.option('--pull <string>', 'Pull image before running ("always"|"missing"|"never")', 'missing');
  cmd.option('--read-only', "Mount the container's root filesystem as read only");
  cmd.option('--restart <string>', 'Restart policy to apply when a container exits', 'no');
  cmd.option('--rm', 'Automatically remove the container when it exits');
  cmd.option('--runtime <string>', 'Runtime to use for this container');
  list('--security-opt <list>', 'Security Options');
  cmd.option('--shm-size <bytes>', 'Size of /dev/shm');
  cmd.option('--stop-signal <string>', 'Signal to stop a container');
  cmd.option('--stop-timeout <int>', 'Timeout (in seconds) to stop a container');
  list('--sysctl <map>', 'Sysctl options');
  list('--tmpfs <list>', 'Mount a tmpfs directory');
  cmd.option('-t, --tty', 'Allocate a pseudo-TTY');
  list('--ulimit <ulimit>', 'Ulimit options');
  cmd.option('-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])');
  cmd.option('--uts <string>', 'UTS namespace to use');
  list('-v, --volume <list>', 'Bind mount a volume');
  list('--volumes-from <list>', 'Mount volumes from the specified container(s)');
  cmd.option('-w, --workdir <string>', 'Working directory inside the container');
  return cmd;
}

/**
 * Turns `run`/`create` flags into the create body, as the docker CLI's
 * `parse()` does. Pure apart from reading `--env-file`/`--label-file`; throws
 * UsageError on a bad value so nothing reaches the daemon.
 */
export function buildCreateBody(image: string, args: string[], o: ContainerFlags, env: NodeJS.ProcessEnv = process.env): CreateBody {
  checkReference(image);
  const detach = !!o.detach;
  const attach = (o.attach ?? []).map((s) => s.toLowerCase());
  for (const a of attach) if (!['stdin', 'stdout', 'stderr'].includes(a)) throw new UsageError(`invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
  if (detach && attach.length) throw new UsageError('Conflicting options: -a and -d');
  const attachAll = !detach && attach.length === 0;

  const envList = [...(o.envFile ?? []).flatMap((f) => readEnvFile(f, env)), ...(o.env ?? []).map((e) => expandEnv(e, env))];
  const labels = keyValues([...(o.labelFile ?? []).flatMap((f) => readEnvFile(f, env)), ...(o.label ?? [])], 'label');

  const ports = parsePorts([...(o.publish ?? []), ...(o.port ?? [])]);
  const exposed: Record<string, object> = { ...ports.exposed };
  for (const e of o.expose ?? []) for (const k of parseExpose(e)) exposed[k] = {};

  const volumes: Record<string, object> = {};
  const binds: string[] = [];
  for (const v of o.volume ?? []) {
    const parsed = parseVolume(v);
    if (parsed.anonymous) volumes[parsed.target] = {};
    // Like docker 23+, a relative host path ("./data:/data") is made absolute here.
    else binds.push(parsed.source!.startsWith('.') ? [resolve(parsed.source!), ...v.split(':').slice(1)].join(':') : v);
  }

  const restart = parseRestart(o.restart ?? 'no');
  if (o.rm && restart.Name !== '' && restart.Name !== 'no') throw new UsageError('Conflicting options: cannot specify both --restart and --rm');

  let entrypoint: string[] | undefined;
  if (o.entrypoint !== undefined) entrypoint = o.entrypoint === '' ? [''] : [o.entrypoint];

  const tmpfs: Record<string, string> = {};
  for (const t of o.tmpfs ?? []) {
    const i = t.indexOf(':');
    tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1);
  }

  let healthcheck: Record<string, unknown> | undefined;
  if (o.noHealthcheck) {
    if (o.healthCmd || o.healthInterval || o.healthTimeout || o.healthRetries || o.healthStartPeriod) throw new UsageError('--no-healthcheck conflicts with --health-* options');
    healthcheck = { Test: ['NONE'] };
  } else if (o.healthCmd || o.healthInterval || o.healthTimeout || o.healthRetries || o.healthStartPeriod) {
    healthcheck = {
      Test: o.healthCmd ? ['CMD-SHELL', o.healthCmd] : undefined,
      Interval: o.healthInterval ? durationNanos(o.healthInterval, '--health-interval') : 0,
      Timeout: o.healthTimeout ? durationNanos(o.healthTimeout, '--health-timeout') : 0,
      StartPeriod: o.healthStartPeriod ? durationNanos(o.healthStartPeriod, '--health-start-period') : 0,
      Retries: o.healthRetries ? parseIntFlag(o.healthRetries, '--health-retries') : 0,
    };
  }

  let nanoCpus: number | undefined;
  if (o.cpus !== undefined) {
    const n = Number(o.cpus);
    if (!/^\d*\.?\d+$/.test(o.cpus) || !Number.isFinite(n)) throw new UsageError(`invalid argument "${o.cpus}" for "--cpus" flag: failed to parse ${o.cpus} as a rational number`);
    nanoCpus = Math.round(n * 1e9);
  }

  const network = o.network ?? o.net ?? 'default';
  const endpoint: Record<string, any> = {};
  if (o.networkAlias?.length) endpoint.Aliases = o.networkAlias;
  if (o.ip) endpoint.IPAMConfig = { IPv4Address: o.ip };
  if (Object.keys(endpoint).length && (network === 'default' || network === 'bridge')) {
    throw new UsageError('network-scoped aliases are only supported for user-defined networks');
  }

  const stdinAttached = attachAll ? !!o.interactive : attach.includes('stdin');
  const intOpt = (v: string | undefined, flag: string) => (v === undefined ? undefined : parseIntFlag(v, flag));
  const ramOpt = (v: string | undefined) => (v === undefined ? undefined : v === '-1' ? -1 : parseRamBytes(v));

  const body: CreateBody = prune({
    Hostname: o.hostname ?? '',
    Domainname: o.domainname ?? '',
    User: o.user ?? '',
    AttachStdin: stdinAttached,
    AttachStdout: attachAll || attach.includes('stdout'),
    AttachStderr: attachAll || attach.includes('stderr'),
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    Tty: !!o.tty,
    OpenStdin: !!o.interactive,
    StdinOnce: !!o.interactive && stdinAttached,
    Env: envList,
    Cmd: args.length ? args : null,
    Healthcheck: healthcheck,
    Image: image,
    Volumes: Object.keys(volumes).length ? volumes : undefined,
    WorkingDir: o.workdir ?? '',
    Entrypoint: entrypoint ?? null,
    MacAddress: o.macAddress,
    Labels: labels,
    StopSignal: o.stopSignal,
    StopTimeout: intOpt(o.stopTimeout, '--stop-timeout'),
    HostConfig: prune({
      Binds: binds.length ? binds : null,
      ContainerIDFile: o.cidfile ?? '',
      LogConfig: { Type: o.logDriver ?? '', Config: keyValues(o.logOpt ?? [], 'log-opt', true) },
      NetworkMode: network,
      PortBindings: ports.bindings,
      RestartPolicy: restart,
      AutoRemove: !!o.rm,
      VolumesFrom: o.volumesFrom?.length ? o.volumesFrom : null,
      Mounts: o.mount?.length ? o.mount.map(parseMount) : undefined,
      CapAdd: o.capAdd?.length ? o.capAdd.map(normalizeCap) : null,
      CapDrop: o.capDrop?.length ? o.capDrop.map(normalizeCap) : null,
      Dns: o.dns ?? [],
      DnsOptions: o.dnsOption ?? [],
      DnsSearch: o.dnsSearch ?? [],
      ExtraHosts: o.addHost?.length ? o.addHost : null,
      GroupAdd: o.groupAdd?.length ? o.groupAdd : null,
      IpcMode: o.ipc ?? '',
      Links: o.link?.length ? o.link : null,
      OomScoreAdj: intOpt(o.oomScoreAdj, '--oom-score-adj') ?? 0,
      PidMode: o.pid ?? '',
      Privileged: !!o.privileged,
      PublishAllPorts: !!o.publishAll,
      ReadonlyRootfs: !!o.readOnly,
      SecurityOpt: o.securityOpt?.length ? o.securityOpt.map(readSeccompFile) : null,
      Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
      UTSMode: o.uts ?? '',
      ShmSize: o.shmSize !== undefined ? parseRamBytes(o.shmSize) : undefined,
      Init: o.init ? true : undefined,
      Runtime: o.runtime,
      CpuShares: intOpt(o.cpuShares, '--cpu-shares'),
      Memory: ramOpt(o.memory),
      MemoryReservation: ramOpt(o.memoryReservation),
      MemorySwap: ramOpt(o.memorySwap),
      NanoCpus: nanoCpus,
      CpuPeriod: intOpt(o.cpuPeriod, '--cpu-period'),
      CpuQuota: intOpt(o.cpuQuota, '--cpu-quota'),
      CpusetCpus: o.cpusetCpus,
      OomKillDisable: o.oomKillDisable ? true : undefined,
      PidsLimit: intOpt(o.pidsLimit, '--pids-limit'),
      Ulimits: (o.ulimit ?? []).map(parseUlimit),
      Devices: (o.device ?? []).map(parseDevice),
      BlkioWeightDevice: [], BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [],
      Sysctls: o.sysctl?.length ? keyValues(o.sysctl, 'sysctl', true) : undefined,
    }),
    NetworkingConfig: { EndpointsConfig: Object.keys(endpoint).length ? { [network]: endpoint } : {} },
  });
  return body;
}

/** `--sig-proxy` defaults to true and also accepts `--sig-proxy=false`. */
export function sigProxyEnabled(o: ContainerFlags): boolean {
  return parseBool(o.sigProxy as string | boolean | undefined, '--sig-proxy');
}

/** Capabilities as the docker CLI sends them: upper case with the CAP_ prefix ("ALL" stays). */
function normalizeCap(c: string): string {
  const up = c.trim().toUpperCase();
  return up === 'ALL' || up.startsWith('CAP_') ? up : `CAP_${up}`;
}

function prune<T extends Record<string, any>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** As the docker CLI does: `seccomp=FILE` is sent as `seccomp=<file content>`; `unconfined`/`builtin` pass as given. */
function readSeccompFile(opt: string): string {
  const m = /^seccomp[=:](.+)$/s.exec(opt);
  if (!m || m[1] === 'unconfined' || m[1] === 'builtin' || m[1].trimStart().startsWith('{')) return opt;
  let text: string;
  try {
    text = readFileSync(m[1], 'utf8');
  } catch (e) {
    throw new Error(`opening seccomp profile (${m[1]}) failed: ${(e as Error).message}`);
  }
  const bad = goJsonSyntaxError(text);
  if (bad) throw new Error(`compacting json for seccomp profile (${m[1]}) failed: ${bad}`);
  return `seccomp=${text}`;
}
