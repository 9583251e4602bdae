import * as os from 'node:os';
import { InvalidArgument, Unavailable } from '../../common/errors.js';
import type { EngineEvent, EventBus } from '../../engine/events/bus.js';
import type { Router } from '../router.js';
import { API_MAX_VERSION, API_MIN_VERSION } from '../version.js';
import { parseFilters } from '../../engine/containers/filters.js';

export interface SystemInfoSource {
  /** The daemon's own facts and counts for `/info`. */
  info(): Promise<Record<string, unknown>>;
  version: string;
}

/** `/_ping`, `/version`, `/info`, `/events`, and the swarm probes clients make. */
export function registerSystemRoutes(r: Router, events: EventBus, sys: SystemInfoSource): void {
  const ping = (c: Parameters<Parameters<Router['get']>[1]>[0]) => {
    c.res.setHeader('Builder-Version', '1');
    c.res.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
    c.res.setHeader('Pragma', 'no-cache');
    c.res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 2 });
    c.res.end(c.req.method === 'HEAD' ? undefined : 'OK');
  };
  r.get('/_ping', ping);
  r.head('/_ping', ping);

  r.get('/version', (c) => {
    c.json(200, {
      Platform: { Name: 'Berth' },
      Components: [{ Name: 'Engine', Version: sys.version, Details: { ApiVersion: API_MAX_VERSION, MinAPIVersion: API_MIN_VERSION, Os: 'linux', Arch: goArch(), KernelVersion: os.release() } }],
      Version: sys.version,
      ApiVersion: API_MAX_VERSION,
      MinAPIVersion: API_MIN_VERSION,
      GitCommit: 'berth',
      GoVersion: `node${process.versions.node}`,
      Os: 'linux',
      Arch: goArch(),
      KernelVersion: os.release(),
      BuildTime: new Date(0).toISOString(),
    });
  });

  r.get('/info', async (c) => c.json(200, await sys.info()));

  r.get('/events', async (c) => {
    const filters = parseFilters(c.jsonQuery('filters'));
    const since = timeParam(c.query.get('since'));
    const until = timeParam(c.query.get('until'));
    const match = eventFilter(filters);
    c.res.writeHead(200, { 'Content-Type': 'application/json' });
    c.res.flushHeaders();
    for (const e of events.replay(since ?? Infinity, until ?? Infinity)) if (match(e)) c.res.write(JSON.stringify(e) + '\n');
    if (until !== undefined && until <= Date.now() * 1e6) {
      c.res.end();
      return;
    }
    await new Promise<void>((resolve) => {
      const unsubscribe = events.subscribe((e) => {
        if (match(e)) c.res.write(JSON.stringify(e) + '\n');
      });
      let timer: NodeJS.Timeout | undefined;
      const done = () => { unsubscribe(); clearTimeout(timer); resolve(); };
      if (until !== undefined) timer = setTimeout(() => { c.res.end(); done(); }, until / 1e6 - Date.now());
      c.res.on('close', done);
    });
  });

  // Clients probe for swarm; answer as a Docker node outside a swarm does.
  const notSwarm = () => {
    throw new Unavailable('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
  };
  for (const p of ['/swarm', '/nodes', '/services', '/tasks', '/secrets', '/configs']) r.get(p, notSwarm);
  r.post('/swarm/leave', () => {
    throw new Unavailable('This node is not part of a swarm');
  });
}

function goArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x', ppc64: 'ppc64le' } as Record<string, string>)[process.arch] ?? process.arch;
}

/** since/until for events: unix seconds (fractional allowed) → nanoseconds. */
function timeParam(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new InvalidArgument(`invalid timestamp: ${v}`);
  return Number(v) * 1e9;
}

function eventFilter(f: Record<string, string[]>): (e: EngineEvent) => boolean {
  return (e) => {
    if (f.type && !f.type.includes(e.Type)) return false;
    if (f.event && !f.event.some((a) => e.Action === a || e.Action.startsWith(a + ':'))) return false;
    const name = e.Actor.Attributes.name ?? '';
    if (f.container && !(e.Type === 'container' && f.container.some((x) => e.Actor.ID.startsWith(x) || name === x))) return false;
    if (f.image && !f.image.some((x) => e.Actor.Attributes.image === x || e.Actor.ID === x)) return false;
    if (f.label && !f.label.every((l) => {
      const [k, v] = l.split('=');
      return v === undefined ? k in e.Actor.Attributes : e.Actor.Attributes[k] === v;
    })) return false;
    return true;
  };
}
