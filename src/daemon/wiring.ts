import * as path from 'node:path';
import { Conflict } from '../common/errors.js';
import type { Router } from '../api/router.js';
import { registerImageRoutes } from '../api/routes/images.js';
import { registerVolumeRoutes } from '../api/routes/volumes.js';
import type { EventBus } from '../engine/events/bus.js';
import type { RootfsPort, RuntimePort, SpecBuilder } from '../engine/containers/ports.js';
import type { ContainerStore } from '../engine/containers/store.js';
import { ImageService } from '../engine/images/service.js';
import { ContainerRootfs } from '../engine/images/rootfs.js';
import { ensureBuiltinImages } from '../engine/images/builtin.js';
import { ContainerRuntime, defaultRuntime } from '../engine/runtime/runtime.js';
import { VolumeStore } from '../engine/volumes/store.js';
import { VolumeService } from '../engine/volumes/service.js';
import type { DaemonOptions } from './options.js';
import { runtimePort, specFor } from './runtime-port.js';
import { NetworkService } from '../engine/network/service.js';
import { registerNetworkRoutes } from '../api/routes/networks.js';
import type { NetworkPort } from '../engine/containers/ports.js';
import { networkInstance, networkPort } from './network-port.js';
import { DistributionService } from '../engine/distribution/service.js';
import { pullHandler, registerDistributionRoutes } from '../api/routes/distribution.js';

/** The services behind the container lifecycle, built for one daemon. */
export interface WiredServices {
  images: ImageService;
  containerRootfs: ContainerRootfs;
  rootfs: RootfsPort;
  runtime: RuntimePort;
  volumes: VolumeService;
  network: NetworkPort;
  networkService: NetworkService;
  buildSpec: SpecBuilder;
  runtimeName: string;
  imageCount: () => Promise<number>;
  ancestorIds: (ref: string) => Set<string>;
  registerRoutes: (r: Router) => void;
  warnings: string[];
  close: () => Promise<void>;
}

/** Opens the stores and runtime under the daemon's roots and connects them. */
export async function wireServices(opts: DaemonOptions, _events: EventBus, store: ContainerStore): Promise<WiredServices> {
  // The runtime first: it refuses a runtime that cannot work here before anything is unpacked.
  const runtimeName = opts.runtime === 'auto' ? defaultRuntime() : opts.runtime;
  const rt = await ContainerRuntime.open({ execRoot: opts.execRoot, runtime: runtimeName });
  const images = await ImageService.open(opts.dataRoot);
  images.setContainerLookup((imageId) => store.all().filter((c) => c.Image === imageId).map((c) => ({ id: c.Id, running: c.State.Running })));
  await ensureBuiltinImages(images);
  const containerRootfs = new ContainerRootfs(images);
  const distribution = new DistributionService(images, {
    insecureRegistries: opts.insecureRegistries,
    maxConcurrentDownloads: opts.maxConcurrentDownloads,
    maxConcurrentUploads: opts.maxConcurrentUploads,
  });
  const rootfs: RootfsPort = {
    async resolveImage(ref) {
      const img = images.resolve(ref);
      return { id: img.id, config: images.config(img.id).config ?? {} };
    },
    createContainerLayer: (id, imageId) => containerRootfs.createContainerLayer(id, imageId),
    mountContainer: (id) => containerRootfs.mountContainer(id),
    unmountContainer: (id) => containerRootfs.unmountContainer(id),
    removeContainerLayer: (id) => containerRootfs.removeContainerLayer(id),
    exportContainer: (id) => containerRootfs.exportContainer(id),
  };
  const volumeStore = new VolumeStore(path.join(opts.dataRoot, 'volumes'));
  await volumeStore.load();
  const volumes = new VolumeService(volumeStore, () => store.all(), (ref) => store.get(ref));
  const networks = await NetworkService.open({
    root: path.join(opts.dataRoot, 'network'), ...networkInstance(opts.dataRoot), bip: opts.bip,
    addressPools: opts.defaultAddressPool.length ? opts.defaultAddressPool.map(parsePool) : undefined,
  });

  return {
    images, containerRootfs, rootfs, volumes,
    network: networkPort(networks, store), networkService: networks,
    runtime: runtimePort(rt),
    buildSpec: specFor,
    runtimeName,
    imageCount: async () => images.all().length,
    ancestorIds(ref) {
      try {
        const root = images.resolve(ref);
        const ids = new Set([root.id]);
        // Descendants: images whose parent chain reaches the ancestor.
        let grew = true;
        while (grew) {
          grew = false;
          for (const img of images.all()) {
            if (!ids.has(img.id) && img.parent && ids.has(img.parent)) { ids.add(img.id); grew = true; }
          }
        }
        return ids;
      } catch {
        return new Set();
      }
    },
    registerRoutes(r) {
      registerImageRoutes(r, images, { pull: pullHandler(distribution) });
      registerDistributionRoutes(r, distribution);
      registerVolumeRoutes(r, volumes);
      // Whether `network` (a name) is the one the container's NetworkMode names.
      const isPrimaryNetwork = (mode: string | undefined, network: string) => {
        const m = !mode || mode === 'default' ? 'bridge' : mode;
        if (m === 'host' || m === 'none' || m.startsWith('container:')) return false;
        try { return networks.find(m).Name === network; } catch { return false; }
      };
      registerNetworkRoutes(r, networks, {
        async resolve(ref) {
          const c = store.get(ref);
          return { id: c.Id, name: c.Name.slice(1), running: c.State.Running };
        },
        // A container not running joins at its next start, from its NetworkingConfig
        // (docker-compose 1.29 connects each created container before starting it).
        async addNetwork(id, network, endpoint) {
          const c = store.get(id);
          c.NetworkingConfig = { ...c.NetworkingConfig, EndpointsConfig: { ...c.NetworkingConfig?.EndpointsConfig, [network]: endpoint } };
          if (isPrimaryNetwork(c.HostConfig.NetworkMode, network)) delete c.PrimaryNetworkDisconnected;
          await store.save(c);
        },
        async removeNetwork(id, network) {
          const c = store.get(id);
          const eps = { ...c.NetworkingConfig?.EndpointsConfig };
          const primary = isPrimaryNetwork(c.HostConfig.NetworkMode, network);
          if (!(network in eps) && (!primary || c.PrimaryNetworkDisconnected)) {
            throw new Conflict(`container ${c.Id} is not connected to network ${network}`);
          }
          delete eps[network];
          c.NetworkingConfig = { ...c.NetworkingConfig, EndpointsConfig: eps };
          if (primary) c.PrimaryNetworkDisconnected = true;
          await store.save(c);
        },
      });
    },
    warnings: networks.warnings,
    close: async () => {
      rt.close();
      await networks.close();
    },
  };
}

/** `--default-address-pool base=10.10.0.0/16,size=24`. */
function parsePool(spec: string): { base: string; size: number } {
  const kv = Object.fromEntries(spec.split(',').map((p) => p.split('=') as [string, string]));
  if (!kv.base || !kv.size || !/^\d+$/.test(kv.size)) throw new Error(`invalid --default-address-pool ${spec}: want base=CIDR,size=N`);
  return { base: kv.base, size: Number(kv.size) };
}
