import { parseCidr } from './ipam.js';
import { portsView } from './ports.js';
import type { ContainerNetRecord, NetworkRecord } from './records.js';

/**
 * Docker's JSON shapes for networks (GET /networks/{id}) and for a
 * container's NetworkSettings, built from Berth's records.
 */
export interface NetworkInspect {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: string;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: { Subnet: string; Gateway: string; IPRange?: string }[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export function networkView(n: NetworkRecord, containers: Iterable<ContainerNetRecord>): NetworkInspect {
  const members: NetworkInspect['Containers'] = {};
  const prefix = n.Subnet ? parseCidr(n.Subnet).prefix : 0;
  for (const c of containers) {
    const ep = c.Endpoints.find((e) => e.NetworkId === n.Id);
    if (!ep) continue;
    members[c.Id] = { Name: c.Name, EndpointID: ep.EndpointId, MacAddress: ep.MacAddress, IPv4Address: `${ep.IPAddress}/${prefix}`, IPv6Address: '' };
  }
  const config = n.Subnet ? [{ Subnet: n.Subnet, Gateway: n.Gateway!, ...(n.IPRange ? { IPRange: n.IPRange } : {}) }] : [];
  return {
    Name: n.Name,
    Id: n.Id,
    Created: n.Created,
    Scope: 'local',
    Driver: n.Driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: n.Default ? null : {}, Config: config },
    Internal: n.Internal,
    Attachable: n.Attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: members,
    Options: n.Options,
    Labels: n.Labels,
  };
}

export interface EndpointSettings {
  IPAMConfig: { IPv4Address?: string } | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DriverOpts: null;
  DNSNames: string[] | null;
}

/** A container's NetworkSettings; the top-level address fields describe its `bridge` endpoint, as Docker's do. */
export function networkSettingsView(c: ContainerNetRecord | undefined, networks: Map<string, NetworkRecord>, sandboxKey: string, mode?: string): Record<string, unknown> {
  const nets: Record<string, EndpointSettings> = {};
  let top: EndpointSettings | undefined;
  for (const ep of c?.Endpoints ?? []) {
    const n = networks.get(ep.NetworkId);
    if (!n) continue;
    const prefix = n.Subnet ? parseCidr(n.Subnet).prefix : 0;
    const s: EndpointSettings = {
      IPAMConfig: ep.RequestedIp ? { IPv4Address: ep.RequestedIp } : null,
      Links: null,
      Aliases: n.Default ? null : ep.Aliases,
      MacAddress: ep.MacAddress,
      NetworkID: n.Id,
      EndpointID: ep.EndpointId,
      Gateway: n.Internal ? '' : n.Gateway ?? '',
      IPAddress: ep.IPAddress,
      IPPrefixLen: prefix,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      DriverOpts: null,
      DNSNames: n.Default ? null : [c!.Name, ...ep.Aliases, c!.Id.slice(0, 12)].filter((x, i, a) => a.indexOf(x) === i),
    };
    nets[n.Name] = s;
    if (n.Default) top = s;
  }
  if (mode === 'host' || mode === 'none') {
    nets[mode] = { IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DriverOpts: null, DNSNames: null };
  }
  return {
    Bridge: '',
    SandboxID: c?.Netns ? c.Id : '',
    SandboxKey: sandboxKey,
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: portsView(c?.Ports ?? [], c?.Exposed ?? []),
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: top?.EndpointID ?? '',
    Gateway: top?.Gateway ?? '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: top?.IPAddress ?? '',
    IPPrefixLen: top?.IPPrefixLen ?? 0,
    IPv6Gateway: '',
    MacAddress: top?.MacAddress ?? '',
    Networks: nets,
  };
}
