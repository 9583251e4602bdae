import { InvalidArgument } from '../../common/errors.js';
import type { Router } from '../router.js';

/** What `GET /system/df` reports, gathered by the daemon from each store. */
export interface DiskUsageSource {
  /** Total bytes of distinct unpacked layers. */
  layersSize(): number;
  /** Image summaries with Size, SharedSize and Containers filled in. */
  images(): Record<string, unknown>[];
  /** Container summaries with SizeRw and SizeRootFs. */
  containers(): Promise<Record<string, unknown>[]>;
  /** Volumes with UsageData { Size, RefCount }. */
  volumes(): Promise<Record<string, unknown>[]>;
}

const TYPES = ['container', 'image', 'volume', 'build-cache'];

/** `GET /system/df` (`docker system df`); `type=` (API 1.42) limits what is computed. */
export function registerSystemDfRoutes(r: Router, src: DiskUsageSource): void {
  r.get('/system/df', async (c) => {
    const types = c.query.getAll('type');
    for (const t of types) if (!TYPES.includes(t)) throw new InvalidArgument(`unknown object type: ${t}`);
    const want = (t: string) => types.length === 0 || types.includes(t);
    const out: Record<string, unknown> = {};
    if (want('image')) {
      out.LayersSize = src.layersSize();
      out.Images = src.images();
    }
    if (want('container')) out.Containers = await src.containers();
    if (want('volume')) out.Volumes = await src.volumes();
    if (want('build-cache')) out.BuildCache = [];
    c.json(200, out);
  });
}
