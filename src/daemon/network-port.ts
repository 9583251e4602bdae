import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { NetworkPort } from '../engine/containers/ports.js';
import type { ContainerStore } from '../engine/containers/store.js';
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
    settings: (rec) => svc.networkSettings(rec.Id, modeOf(rec.HostConfig.NetworkMode)),
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
