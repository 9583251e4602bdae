import { promises as fs } from 'node:fs';
import { Conflict, InvalidArgument } from '../../common/errors.js';
import { isIPv4 } from './ipam.js';

/**
 * Published ports: Docker's API shapes in, concrete bindings out.
 *
 *   const wanted = requestedPorts({ '80/tcp': [{ HostIp: '', HostPort: '8000-8010' }] }, {}, false);
 *   // [{ proto: 'tcp', containerPort: 80, hostIp: '', hostPorts: [8000, ..., 8010] }]
 */
export interface PortBindingSpec { HostIp?: string; HostPort?: string }
export type PortMap = Record<string, PortBindingSpec[] | null>;

export interface PortRequest {
  proto: 'tcp' | 'udp';
  containerPort: number;
  hostIp: string;
  /** Candidates in order; empty = any free ephemeral port. */
  hostPorts: number[];
}

/** A binding as programmed: what NetworkSettings.Ports and the firewall see. */
export interface Binding { proto: 'tcp' | 'udp'; containerPort: number; hostIp: string; hostPort: number }

export function parsePortKey(k: string): { port: number; proto: 'tcp' | 'udp' } {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(k);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new InvalidArgument(`invalid port specification: "${k}"`);
  const proto = (m[2] ?? 'tcp').toLowerCase();
  if (proto === 'sctp') throw new InvalidArgument('sctp ports are not supported');
  return { port: Number(m[1]), proto: proto as 'tcp' | 'udp' };
}

function parseHostPorts(s: string | undefined): number[] {
  if (!s) return [];
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new InvalidArgument(`invalid port specification: "${s}"`);
  const a = Number(m[1]);
  const b = m[2] ? Number(m[2]) : a;
  if (a < 1 || b > 65535 || b < a) throw new InvalidArgument(`invalid port range: ${s}`);
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

/** What a container asks for: explicit bindings, plus every exposed port when `-P`. */
export function requestedPorts(bindings: PortMap | undefined, exposed: Record<string, unknown> | undefined, publishAll: boolean): PortRequest[] {
  const out: PortRequest[] = [];
  for (const [k, list] of Object.entries(bindings ?? {})) {
    const { port, proto } = parsePortKey(k);
    for (const b of list ?? [{}]) {
      const hostIp = b.HostIp ?? '';
      if (hostIp && !isIPv4(hostIp)) {
        if (hostIp === '::' || hostIp === '::1') continue; // IPv4 only: Docker's dual-stack defaults also list '::'
        throw new InvalidArgument(`invalid host IP address: ${hostIp}`);
      }
      out.push({ proto, containerPort: port, hostIp, hostPorts: parseHostPorts(b.HostPort) });
    }
  }
  if (publishAll) {
    for (const k of Object.keys(exposed ?? {})) {
      const { port, proto } = parsePortKey(k);
      if (!out.some((r) => r.containerPort === port && r.proto === proto)) out.push({ proto, containerPort: port, hostIp: '', hostPorts: [] });
    }
  }
  return out;
}

/** True when two bindings cannot coexist: same protocol and port, and overlapping addresses. */
export function clashes(a: { proto: string; hostIp: string; hostPort: number }, b: { proto: string; hostIp: string; hostPort: number }): boolean {
  const any = (ip: string) => ip === '' || ip === '0.0.0.0';
  return a.proto === b.proto && a.hostPort === b.hostPort && (any(a.hostIp) || any(b.hostIp) || a.hostIp === b.hostIp);
}

export function allocatedError(hostIp: string, port: number): Conflict {
  return new Conflict(`Bind for ${hostIp || '0.0.0.0'}:${port} failed: port is already allocated`);
}

/** The kernel's ephemeral range, where Docker picks random host ports. */
export async function ephemeralRange(): Promise<[number, number]> {
  const s = await fs.readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '32768 60999');
  const [a, b] = s.trim().split(/\s+/).map(Number);
  return [a || 32768, b || 60999];
}

/** NetworkSettings.Ports: every exposed port, with its bindings or null. */
export function portsView(bindings: Binding[], exposed: string[]): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const k of exposed) out[k.includes('/') ? k : `${k}/tcp`] = null;
  for (const b of bindings) {
    const k = `${b.containerPort}/${b.proto}`;
    (out[k] ??= []).push({ HostIp: b.hostIp || '0.0.0.0', HostPort: String(b.hostPort) });
  }
  return out;
}
