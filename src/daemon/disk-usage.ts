import type { DiskUsageSource } from '../api/routes/system-df.js';
import type { ContainerStore } from '../engine/containers/store.js';
import { summaryView } from '../engine/containers/view.js';
import type { ContainerRootfs } from '../engine/images/rootfs.js';
import type { ImageService } from '../engine/images/service.js';
import { listImages } from '../engine/images/views.js';
import type { VolumeService } from '../engine/volumes/service.js';

/**
 * `system df` figures from the stores: layers are counted once per snapshot
 * (chain id), an image's SharedSize is what it shares with another image,
 * a container's SizeRw is its writable layer, a volume's size its files.
 */
export function diskUsageSource(images: ImageService, store: ContainerStore, rootfs: ContainerRootfs, volumes: VolumeService): DiskUsageSource {
  const sizes = containerSizes(images, rootfs);
  const layerUse = () => {
    const users = new Map<string, { size: number; images: number }>();
    for (const rec of images.all()) {
      const chain = images.chainIdsOf(rec);
      rec.layers.forEach((l, i) => {
        const u = users.get(chain[i]) ?? { size: l.unpackedSize, images: 0 };
        u.images++;
        users.set(chain[i], u);
      });
    }
    return users;
  };
  return {
    layersSize: () => [...layerUse().values()].reduce((n, u) => n + u.size, 0),
    images() {
      const users = layerUse();
      return listImages(images, { all: true }).map((s) => {
        const rec = images.resolve(s.Id);
        const shared = images.chainIdsOf(rec).reduce((n, id) => n + ((users.get(id)?.images ?? 0) > 1 ? users.get(id)!.size : 0), 0);
        const { VirtualSize: _v, ...rest } = s;
        return { ...rest, SharedSize: shared };
      });
    },
    async containers() {
      return Promise.all(store.all().map(async (rec) => ({ ...summaryView(rec), ...await sizes(rec.Id, rec.Image) })));
    },
    async volumes() {
      return Promise.all(volumes.store.all().map(async (v) => {
        const view = volumes.view(v, true) as { UsageData: { Size: number; RefCount: number } };
        return { ...view, UsageData: { ...view.UsageData, Size: await volumes.store.size(v) } };
      }));
    },
  };
}

/** A container's SizeRw (its writable layer) and SizeRootFs (that plus its image), for `ps -s` and `system df`. */
export function containerSizes(images: ImageService, rootfs: ContainerRootfs) {
  return async (id: string, image: string): Promise<{ SizeRw: number; SizeRootFs: number }> => {
    const rw = await rootfs.containerSize(id);
    let imageSize = 0;
    try { imageSize = images.sizeOf(images.resolve(image)); } catch { /* image gone */ }
    return { SizeRw: rw, SizeRootFs: rw + imageSize };
  };
}
