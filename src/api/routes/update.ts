import { InvalidArgument } from '../../common/errors.js';
import type { HostConfig } from '../../engine/containers/types.js';
import type { HostCaps } from '../../engine/resources/caps.js';
import { updateResources, type UpdateTarget } from '../../engine/resources/update.js';
import type { ResourceUpdate } from '../../engine/resources/validate.js';
import type { CgroupLayout } from '../../engine/stats/cgroupfs.js';
import type { Router } from '../router.js';

export interface UpdateRouteDeps {
  layout: CgroupLayout;
  caps: HostCaps;
  /** The container now; throws NotFound `No such container: x`. */
  target(ref: string): UpdateTarget;
  /** Stores the merged HostConfig (restart policy included) in the container's record. */
  saveHostConfig(id: string, hostConfig: HostConfig): Promise<void>;
}

/** `POST /containers/{id}/update` (`docker update`). */
export function registerUpdateRoutes(r: Router, deps: UpdateRouteDeps): void {
  r.post('/containers/:id/update', async (c) => {
    const body = await c.body<ResourceUpdate>();
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidArgument('invalid update body');
    const t = deps.target(c.params.id);
    const { hostConfig, warnings } = await updateResources(deps.layout, deps.caps, t, body);
    await deps.saveHostConfig(t.id, hostConfig);
    c.json(200, { Warnings: warnings.length ? warnings : null });
  });
}
