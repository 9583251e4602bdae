import type { ContainerRecord } from './record.js';

/**
 * Docker's JSON shapes for a container: `inspect` (GET /containers/{id}/json)
 * and the summary row of `ps` (GET /containers/json).
 */
export function inspectView(rec: ContainerRecord): Record<string, unknown> {
  return {
    Id: rec.Id,
    Created: rec.Created,
    Path: rec.Path,
    Args: rec.Args,
    State: { ...rec.State, Status: rec.State.Status },
    Image: rec.Image,
    ResolvConfPath: rec.ResolvConfPath,
    HostnamePath: rec.HostnamePath,
    HostsPath: rec.HostsPath,
    LogPath: rec.LogPath,
    Name: rec.Name,
    RestartCount: rec.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: rec.HostConfig,
    GraphDriver: { Name: 'overlay2', Data: null },
    Mounts: rec.Mounts ?? [],
    Config: {
      AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false, StdinOnce: false,
      Domainname: '', User: '', Env: [], Cmd: null, Entrypoint: null, WorkingDir: '', Labels: {}, OnBuild: null,
      ...rec.Config,
    },
    NetworkSettings: rec.NetworkSettings ?? emptyNetworkSettings(),
  };
}

function emptyNetworkSettings(): Record<string, unknown> {
  return {
    Bridge: '', SandboxID: '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
    Ports: {}, SandboxKey: '', SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: '',
    Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '',
    MacAddress: '', Networks: {},
  };
}

/** `livePorts`: the network service's view of published ports, when networking is wired. */
export function summaryView(rec: ContainerRecord, livePorts?: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[]): Record<string, unknown> {
  const ns = (rec.NetworkSettings ?? {}) as { Networks?: Record<string, unknown>; Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> };
  const ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] = [];
  for (const [key, bindings] of Object.entries(ns.Ports ?? {})) {
    const [port, proto] = key.split('/');
    if (!bindings || bindings.length === 0) ports.push({ PrivatePort: Number(port), Type: proto ?? 'tcp' });
    else for (const b of bindings) ports.push({ IP: b.HostIp || '0.0.0.0', PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: proto ?? 'tcp' });
  }
  if (livePorts) ports.splice(0, ports.length, ...livePorts);
  else if (ports.length === 0) {
    for (const key of Object.keys(rec.Config.ExposedPorts ?? {})) {
      const [port, proto] = key.split('/');
      ports.push({ PrivatePort: Number(port), Type: proto ?? 'tcp' });
    }
  }
  return {
    Id: rec.Id,
    Names: [rec.Name],
    Image: rec.Config.Image ?? rec.Image,
    ImageID: rec.Image,
    Command: [rec.Path, ...rec.Args.map(quoteArg)].join(' '),
    Created: Math.floor(Date.parse(rec.Created) / 1000),
    Ports: ports,
    Labels: rec.Config.Labels ?? {},
    State: rec.State.Status,
    Status: statusText(rec),
    HostConfig: { NetworkMode: rec.HostConfig.NetworkMode ?? 'default' },
    NetworkSettings: { Networks: ns.Networks ?? {} },
    Mounts: rec.Mounts ?? [],
  };
}

/** Docker's list view wraps arguments that contain a space in single quotes. */
function quoteArg(a: string): string {
  return a.includes(' ') ? `'${a}'` : a;
}

/** Docker's human status: "Up 16 seconds", "Exited (0) 4 minutes ago", "Created". */
export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const s = rec.State;
  if (s.Restarting) return `Restarting (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
  if (s.Running) {
    const up = `Up ${humanDuration(now - Date.parse(s.StartedAt))}`;
    if (s.Paused) return `${up} (Paused)`;
    if (s.Health) return `${up} (${s.Health.Status === 'starting' ? 'health: starting' : s.Health.Status})`;
    return up;
  }
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.Dead) return 'Dead';
  if (s.Status === 'created' || Date.parse(s.FinishedAt) <= 0 || s.FinishedAt.startsWith('0001')) return 'Created';
  return `Exited (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
}

/** Go's units.HumanDuration, which `docker ps` uses. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}
