import { InvalidArgument } from '../../common/errors.js';
import { parseFilters } from '../../engine/containers/filters.js';
import type { VolumeService } from '../../engine/volumes/service.js';
import type { Router } from '../router.js';

/** The /volumes endpoints. */
export function registerVolumeRoutes(r: Router, volumes: VolumeService): void {
  r.get('/volumes', (c) => {
    const list = volumes.list(parseFilters(c.jsonQuery('filters')));
    c.json(200, { Volumes: list.map((v) => volumes.view(v)), Warnings: [] });
  });

  r.post('/volumes/create', async (c) => {
    const body = await c.body<{ Name?: string; Driver?: string; DriverOpts?: Record<string, string>; Labels?: Record<string, string> }>();
    if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidArgument('invalid volume create body');
    c.json(201, volumes.view(await volumes.store.create(body)));
  });

  r.get('/volumes/:name', (c) => {
    c.json(200, volumes.view(volumes.store.get(c.params.name)));
  });

  r.delete('/volumes/:name', async (c) => {
    await volumes.remove(c.params.name, c.flag('force'));
    c.empty();
  });

  r.post('/volumes/prune', async (c) => {
    c.json(200, await volumes.prune(parseFilters(c.jsonQuery('filters')), false));
  });
}
