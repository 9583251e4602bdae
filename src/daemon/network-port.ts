import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { NetworkPort } from '../engine/containers/ports.js';
import type { ContainerStore } from '../engine/containers/store.js';
import type { ContainerRecord } from '../engine/containers/record.js';
import { setupContainerNetwork } from '../engine/network/container-setup.js';
import type { NetworkService } from '../engine/network/service.js';

export const defaultDataRoot = '/var/lib/berth';

/**
 * Names of the host objects one daemon owns (nft table, bridge, netns
 * prefix). The default daemon uses plain `berth`/`berth0`; a daemon on
 * another data root (tests, benchmarks) gets its own suffix so two daemons
 * never share or delete each other's objects.
 */
export function networkInstance(dataRoot: string): { instance?: string; defaultBridge: string } {
  if (path.resolve(dataRoot) === defaultDataRoot) return { defaultBridge: 'berth0' };
  const h = createHash('sha256').update(path.resolve(dataRoot)).digest('hex').slice(0, 8);
  return { instance: h, defaultBridge: `bt${h}` };
}

/** Adapts the network service to the container service's port. */
export function networkPort(svc: NetworkService, store: ContainerStore): NetworkPort {
  const modeOf = (m?: string) => (!m || m === 'default' ? 'bridge' : m);
  return {
    checkMode(mode) {
      const m = modeOf(mode);
      if (m === 'host' || m === 'none' || m.startsWith('container:')) return;
      svc.find(m);
    },
    async setup(rec) {
      return setupContainerNetwork(svc, {
        id: rec.Id, name: rec.Name.slice(1), config: rec.Config, hostConfig: rec.HostConfig,
        endpoints: normalizeEndpoints(rec.NetworkingConfig?.EndpointsConfig),
        filesDir: store.dir(rec.Id),
        skipPrimary: rec.PrimaryNetworkDisconnected,
        linkInfo(ref) {
          const other = store.find(ref);
          if (!other) return undefined;
          return { id: other.Id, name: other.Name.slice(1), env: other.Config.Env ?? [], exposed: Object.keys(other.Config.ExposedPorts ?? {}) };
        },
        resolveContainer(ref) {
          const other = store.find(ref);
          return other?.State.Running ? other.Id : undefined;
        },
      });
    },
    release: (id) => svc.releaseContainer(id),
    settings(rec) {
      const mode = modeOf(rec.HostConfig.NetworkMode);
      const settings = svc.networkSettings(rec.Id, mode);
      const live = settings.Networks as Record<string, unknown> | undefined;
      // A container not running has no endpoints; Docker still lists the
      // networks it will join, with empty addresses (docker-compose 1.29
      // reads them to decide what to connect or disconnect).
      if (!rec.State.Running && (!live || Object.keys(live).length === 0)) {
        let primary = mode;
        try { if (mode !== 'host' && mode !== 'none' && !mode.startsWith('container:')) primary = svc.find(mode).Name; } catch { /* removed network: show what was asked */ }
        settings.Networks = configuredNetworks(rec, primary);
      }
      return settings;
    },
    ports: (id) => svc.listPorts(id),
  };
}

/** The docker CLI names the default network "default" in EndpointsConfig; it means `bridge`. */
function normalizeEndpoints<T>(eps: Record<string, T> | null | undefined): Record<string, T> | undefined {
  if (!eps) return undefined;
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(eps)) out[k === 'default' ? 'bridge' : k] = v;
  return out;
}

type EndpointsConfig = NonNullable<NonNullable<ContainerRecord['NetworkingConfig']>['EndpointsConfig']>;

/** The networks a stopped container will join at its next start, as inspect shows them before it runs. */
function configuredNetworks(rec: ContainerRecord, mode: string): Record<string, unknown> {
  const eps: EndpointsConfig = normalizeEndpoints(rec.NetworkingConfig?.EndpointsConfig) ?? {};
  const names = Object.keys(eps);
  const joinsMode = !(mode === 'host' || mode === 'none' || mode.startsWith('container:') || rec.PrimaryNetworkDisconnected);
  if (mode === 'host' || mode === 'none' || (joinsMode && !names.includes(mode))) names.unshift(mode);
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const ep = eps[name];
    out[name] = {
      IPAMConfig: ep?.IPAMConfig ?? null, Links: null, Aliases: ep?.Aliases?.length ? ep.Aliases : null, MacAddress: ep?.MacAddress ?? '',
      NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0, DriverOpts: null, DNSNames: null,
    };
  }
  return out;
}
