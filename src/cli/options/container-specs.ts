import { UsageError, parseRamBytes } from './parse-values.js';

/**
 * Parsers for the structured `run` flag values (ports, volumes, mounts,
 * ulimits, restart policies, devices), each producing the Engine API shape and
 * rejecting bad input with Docker's wording.
 */

export interface PortSpecs {
  exposed: Record<string, object>;
  bindings: Record<string, { HostIp: string; HostPort: string }[]>;
}

function portRange(s: string, what: string, spec: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new UsageError(`invalid ${what}: ${s || spec}`);
  const a = Number(m[1]);
  const b = m[2] !== undefined ? Number(m[2]) : a;
  if (a > 65535 || b > 65535 || b < a) throw new UsageError(`invalid ${what}: ${s}`);
  return [a, b];
}

/** `-p [ip:][hostPort:]containerPort[/proto]`, ranges allowed ("8000-8001:80-81"). */
export function parsePorts(specs: string[]): PortSpecs {
  const exposed: Record<string, object> = {};
  const bindings: PortSpecs['bindings'] = {};
  for (const spec of specs) {
    let rest = spec;
    let proto = 'tcp';
    const slash = rest.lastIndexOf('/');
    if (slash >= 0) {
      proto = rest.slice(slash + 1).toLowerCase();
      rest = rest.slice(0, slash);
      if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new UsageError(`invalid proto: ${proto}`);
    }
    let ip = '';
    if (rest.startsWith('[')) {
      const close = rest.indexOf(']');
      if (close < 0 || rest[close + 1] !== ':') throw new UsageError(`invalid IP address: ${rest}`);
      ip = rest.slice(1, close);
      rest = rest.slice(close + 2);
    }
    const parts = rest.split(':');
    let hostPart = '';
    let ctrPart: string;
    if (parts.length === 1) ctrPart = parts[0];
    else if (parts.length === 2) [hostPart, ctrPart] = parts;
    else if (parts.length === 3 && !ip) [ip, hostPart, ctrPart] = parts;
    else throw new UsageError(`invalid port format: ${spec}`);
    if (ip && !/^[0-9.]+$|:/.test(ip)) throw new UsageError(`invalid IP address: ${ip}`);
    if (ctrPart === '') throw new UsageError(`no port specified: ${spec}<empty>`);
    const [c0, c1] = portRange(ctrPart, 'containerPort', spec);
    let h0 = 0;
    let h1 = 0;
    if (hostPart !== '') [h0, h1] = portRange(hostPart, 'hostPort', spec);
    const ctrCount = c1 - c0;
    const hostCount = h1 - h0;
    if (hostPart !== '' && ctrCount !== hostCount && ctrCount !== 0) {
      throw new UsageError(`invalid ranges specified for container and host Ports: ${ctrPart} and ${hostPart}`);
    }
    for (let i = 0; i <= ctrCount; i++) {
      const key = `${c0 + i}/${proto}`;
      exposed[key] = {};
      let hostPort = '';
      if (hostPart !== '') hostPort = ctrCount === 0 && hostCount > 0 ? `${h0}-${h1}` : String(h0 + i);
      (bindings[key] ??= []).push({ HostIp: ip, HostPort: hostPort });
    }
  }
  return { exposed, bindings };
}

/** `--expose 80`, `--expose 7000-7002/udp`. */
export function parseExpose(spec: string): string[] {
  const [ports, proto = 'tcp'] = spec.split('/');
  const [a, b] = portRange(ports, 'range format for --expose', spec);
  const out: string[] = [];
  for (let p = a; p <= b; p++) out.push(`${p}/${proto}`);
  return out;
}

/** `-v [src:]dst[:opts]`: anonymous volumes go to Config.Volumes, the rest to HostConfig.Binds. */
export function parseVolume(spec: string): { anonymous: boolean; source?: string; target: string; mode?: string } {
  const parts = spec.split(':');
  const bad = () => new UsageError(`invalid volume specification: '${spec}'`);
  if (parts.some((p, i) => p === '' && i < 2)) throw bad();
  if (parts.length === 1) {
    if (!parts[0].startsWith('/')) throw new UsageError(`invalid volume specification: '${spec}': invalid mount config for type "volume": invalid mount path: '${spec}' mount path must be absolute`);
    return { anonymous: true, target: parts[0] };
  }
  if (parts.length > 3) throw bad();
  const [source, target, mode] = parts;
  if (!target.startsWith('/')) throw new UsageError(`invalid volume specification: '${spec}': invalid mount config for type "bind": invalid mount path: '${target}' mount path must be absolute`);
  if (mode !== undefined && !mode.split(',').every((m) => /^(ro|rw|z|Z|nocopy|r?(shared|slave|private)|consistent|cached|delegated)$/.test(m))) {
    throw new UsageError(`invalid mode: ${mode}`);
  }
  return { anonymous: false, source, target, mode };
}

/** `--mount type=bind,source=/a,target=/b,readonly`. */
export function parseMount(spec: string): Record<string, unknown> {
  const m: Record<string, any> = { Type: 'volume' };
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? undefined : field.slice(eq + 1);
    switch (key) {
      case 'type': m.Type = val; break;
      case 'source': case 'src': m.Source = val; break;
      case 'target': case 'destination': case 'dst': m.Target = val; break;
      case 'readonly': case 'ro': m.ReadOnly = val === undefined || val === 'true' || val === '1'; break;
      case 'bind-propagation': m.BindOptions = { ...m.BindOptions, Propagation: val }; break;
      case 'volume-nocopy': m.VolumeOptions = { ...m.VolumeOptions, NoCopy: val === undefined || val === 'true' }; break;
      case 'tmpfs-size': m.TmpfsOptions = { ...m.TmpfsOptions, SizeBytes: parseRamBytes(val ?? '') }; break;
      case 'tmpfs-mode': m.TmpfsOptions = { ...m.TmpfsOptions, Mode: parseInt(val ?? '', 8) }; break;
      default: throw new UsageError(`invalid field '${key}' must be a key=value pair`);
    }
  }
  if (!['bind', 'volume', 'tmpfs'].includes(m.Type)) throw new UsageError(`invalid argument "${spec}" for "--mount" flag: invalid mount type: ${m.Type}`);
  if (!m.Target) throw new UsageError(`invalid argument "${spec}" for "--mount" flag: target is required`);
  return m;
}

const ULIMITS = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/** `--ulimit nofile=1024:2048` (a single value sets soft and hard). */
export function parseUlimit(spec: string): { Name: string; Soft: number; Hard: number } {
  const eq = spec.indexOf('=');
  if (eq < 0) throw new UsageError(`invalid ulimit argument: ${spec}`);
  const name = spec.slice(0, eq);
  if (!ULIMITS.has(name)) throw new UsageError(`invalid ulimit type: ${name}`);
  const vals = spec.slice(eq + 1).split(':');
  if (vals.length > 2 || !vals.every((v) => /^-?\d+$/.test(v))) throw new UsageError(`invalid ulimit argument: ${spec}`);
  const soft = Number(vals[0]);
  const hard = Number(vals[1] ?? vals[0]);
  if (soft > hard && hard !== -1) throw new UsageError(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: name, Soft: soft, Hard: hard };
}

/** `--restart no|always|unless-stopped|on-failure[:N]`. */
export function parseRestart(spec: string): { Name: string; MaximumRetryCount: number } {
  if (spec === '') return { Name: 'no', MaximumRetryCount: 0 };
  const parts = spec.split(':');
  if (parts.length > 2) throw new UsageError(`invalid restart policy format: ${spec}`);
  const [name, count] = parts;
  if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(name)) throw new UsageError(`invalid restart policy '${name}'`);
  if (count !== undefined) {
    if (name !== 'on-failure') throw new UsageError(`invalid restart policy format: maximum retry count can only be used with 'on-failure'`);
    if (!/^\d+$/.test(count)) throw new UsageError(`invalid restart policy format: maximum retry count must be an integer`);
  }
  return { Name: name, MaximumRetryCount: count ? Number(count) : 0 };
}

/** `--device /dev/x[:/dev/y][:rwm]`. */
export function parseDevice(spec: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const parts = spec.split(':');
  const perm = (s: string) => /^[rwm]{1,3}$/.test(s);
  let host = parts[0];
  let ctr = host;
  let perms = 'rwm';
  if (parts.length === 2) { if (perm(parts[1])) perms = parts[1]; else ctr = parts[1]; }
  else if (parts.length === 3) { ctr = parts[1]; perms = parts[2]; if (!perm(perms)) throw new UsageError(`invalid device specification: ${spec}`); }
  else if (parts.length > 3) throw new UsageError(`invalid device specification: ${spec}`);
  if (!host.startsWith('/') || !ctr.startsWith('/')) throw new UsageError(`invalid device specification: ${spec}`);
  return { PathOnHost: host, PathInContainer: ctr, CgroupPermissions: perms };
}
