import { Conflict, InvalidArgument } from '../../common/errors.js';
import type { NetworkService } from '../../engine/network/service.js';
import type { Router } from '../router.js';

/**
 * What the network routes need from the container service: resolve a
 * reference, and (for stopped containers) remember a network to join at the
 * next start, as Docker lets `network connect` do.
 */
export interface NetworkContainerLookup {
  /** Throws NotFound (`No such container: x`) for unknown references. */
  resolve(ref: string): Promise<{ id: string; name: string; running: boolean }>;
  /** Records a network for a stopped container (NetworkingConfig), applied at start. */
  addNetwork?(id: string, network: string, endpoint: EndpointConfig): Promise<void>;
  removeNetwork?(id: string, network: string): Promise<void>;
}

export interface EndpointConfig {
  IPAMConfig?: { IPv4Address?: string } | null;
  Aliases?: string[] | null;
  MacAddress?: string;
}

/** Docker's `filters` (`{"name":{"x":true}}` or `{"name":["x"]}`) as lists. */
export function normalizeFilters(f: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!f || typeof f !== 'object') return out;
  for (const [k, v] of Object.entries(f as Record<string, unknown>)) {
    out[k] = Array.isArray(v) ? v.map(String) : Object.entries(v as Record<string, boolean>).filter(([, on]) => on).map(([x]) => x);
  }
  return out;
}

/**
 *   registerNetworkRoutes(router, networkService, containerService)
 * serves GET/POST /networks, /networks/{id}, /networks/create,
 * /networks/{id}/connect, /networks/{id}/disconnect and /networks/prune.
 */
export function registerNetworkRoutes(r: Router, svc: NetworkService, containers?: NetworkContainerLookup): void {
  r.get('/networks', (c) => c.json(200, svc.list(normalizeFilters(c.jsonQuery('filters')))));
  r.post('/networks/create', async (c) => {
    const body = await c.body();
    if (typeof body?.Name !== 'string') throw new InvalidArgument('network name must be a string');
    c.json(201, await svc.create(body));
  });
  r.post('/networks/prune', async (c) => c.json(200, await svc.prune(normalizeFilters(c.jsonQuery('filters')))));
  r.get('/networks/:id', (c) => c.json(200, svc.inspect(c.params.id)));
  r.delete('/networks/:id', async (c) => {
    await svc.remove(c.params.id);
    c.empty(204);
  });
  r.post('/networks/:id/connect', async (c) => {
    const body = await c.body<{ Container?: string; EndpointConfig?: EndpointConfig }>();
    const net = svc.find(c.params.id);
    if (!containers) throw new Conflict('connecting containers is not available');
    if (!body.Container) throw new InvalidArgument('Container is required');
    const ctr = await containers.resolve(body.Container);
    const ep = body.EndpointConfig ?? {};
    if (!ctr.running) {
      if (!containers.addNetwork) throw new Conflict(`Container ${ctr.id} is not running`);
      await containers.addNetwork(ctr.id, net.Name, ep);
    } else {
      await svc.connect(ctr.id, { network: net.Id, name: ctr.name, aliases: ep.Aliases ?? [], ip: ep.IPAMConfig?.IPv4Address || undefined, mac: ep.MacAddress || undefined });
    }
    c.empty(200);
  });
  r.post('/networks/:id/disconnect', async (c) => {
    const body = await c.body<{ Container?: string; Force?: boolean }>();
    const net = svc.find(c.params.id);
    if (!containers) throw new Conflict('disconnecting containers is not available');
    if (!body.Container) throw new InvalidArgument('Container is required');
    const ctr = await containers.resolve(body.Container);
    if (ctr.running) await svc.disconnect(ctr.id, net.Id);
    else if (containers.removeNetwork) await containers.removeNetwork(ctr.id, net.Name);
    c.empty(200);
  });
}
