import type { IncomingMessage } from 'node:http';
import type { EngineClient } from '../../client/index.js';
import type { CliContext } from '../cli-context.js';
import { listRenderer } from '../format/list-format.js';
import { bytesSize, humanSize } from '../format/human.js';
import { shortId } from '../format/rows.js';
// Pure formulas over the API's JSON, shared with the engine's tests so both compute what docker shows.
import { blockIO, cpuPercent, memoryPercent, memoryUsage, networkIO } from '../../api/types/stats.js';
import type { StatsJSON } from '../../api/types/stats.js';
import type { CommandSpec } from './define.js';

const enc = encodeURIComponent;
const DEFAULT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
export const STATS_HEADERS: Record<string, string> = {
  Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %',
  NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};

/** One `docker stats` row: the docker CLI's statsContext fields over a stats frame. */
export class StatsRow {
  constructor(private readonly container: string, private readonly s: StatsJSON | undefined, private readonly trunc: boolean) {}
  get Container(): string { return this.container; }
  get ID(): string { const id = this.s?.id ?? this.container; return this.trunc ? shortId(id) : id; }
  get Name(): string { const n = this.s?.name ?? ''; return n.length > 1 ? n.slice(1) : '--'; }
  get CPUPerc(): string { return this.s ? `${cpuPercent(this.s).toFixed(2)}%` : '--'; }
  get MemUsage(): string { return this.s ? `${bytesSize(memoryUsage(this.s))} / ${bytesSize(this.s.memory_stats.limit ?? 0)}` : '-- / --'; }
  get MemPerc(): string { return this.s ? `${memoryPercent(this.s).toFixed(2)}%` : '--'; }
  get NetIO(): string {
    if (!this.s) return '--';
    const n = networkIO(this.s);
    return `${humanSize(n.rx)} / ${humanSize(n.tx)}`;
  }
  get BlockIO(): string {
    if (!this.s) return '--';
    const b = blockIO(this.s);
    return `${humanSize(b.read)} / ${humanSize(b.write)}`;
  }
  get PIDs(): string { return this.s ? String(this.s.pids_stats?.current ?? 0) : '--'; }
  toJSON(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const k of ['BlockIO', 'CPUPerc', 'Container', 'ID', 'MemPerc', 'MemUsage', 'Name', 'NetIO', 'PIDs']) out[k] = (this as any)[k];
    return out;
  }
}

export const stats: CommandSpec = {
  name: 'stats', usage: '[OPTIONS] [CONTAINER...]', description: 'Display a live stream of container(s) resource usage statistics',
  setup: (c) => {
    c.option('-a, --all', 'Show all containers (default shows just running)');
    c.option('--format <string>', "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template");
    c.option('--no-stream', 'Disable streaming stats and only pull the first result');
    c.option('--no-trunc', "Don't truncate output");
  },
  action: async (ctx, names, o) => {
    const render = listRenderer(o.format, DEFAULT, STATS_HEADERS);
    const client = ctx.client();
    const trunc = o.trunc !== false;
    const explicit = names.length > 0;
    const list = async (): Promise<string[]> => explicit ? names
      : (await client.json<any[]>('GET', '/containers/json', { query: { all: !!o.all } })).map((c) => shortId(c.Id));
    if (o.stream === false) {
      const targets = await list();
      const frames = await Promise.all(targets.map((t) => oneFrame(client, t).catch((e) => (explicit ? Promise.reject(e) : undefined))));
      ctx.out(render(targets.map((t, i) => new StatsRow(t, frames[i], trunc))));
      return 0;
    }
    return liveStats(ctx, client, { list, explicit, all: !!o.all }, (rows) => render(rows), trunc);
  },
};

async function oneFrame(client: EngineClient, ctr: string): Promise<StatsJSON> {
  return client.json('GET', `/containers/${enc(ctr)}/stats`, { query: { stream: false } });
}

/**
 * The live table: one stats stream per container keeps its latest frame, and
 * the table is redrawn every half second, as the docker CLI does. Without
 * names it follows the daemon's container events, subscribed before the
 * first listing so none is missed: a started container (a created one with
 * `-a`) joins, a dead one (without `-a`) or a removed one leaves.
 */
async function liveStats(
  ctx: CliContext, client: EngineClient, set: { list: () => Promise<string[]>; explicit: boolean; all: boolean },
  render: (rows: object[]) => string, trunc: boolean,
): Promise<number> {
  const latest = new Map<string, StatsJSON | undefined>();
  const streams = new Map<string, IncomingMessage | undefined>();
  let failure: unknown;
  const follow = (ctr: string) => {
    if (streams.has(ctr)) return;
    streams.set(ctr, undefined);
    latest.set(ctr, undefined);
    void (async () => {
      try {
        const res = await client.request('GET', `/containers/${enc(ctr)}/stats`, { query: { stream: true } });
        if (!streams.has(ctr)) return void res.destroy(); // it left while we connected
        streams.set(ctr, res);
        for await (const frame of client.jsonLines<StatsJSON>(res)) if (latest.has(ctr)) latest.set(ctr, frame);
      } catch (e) {
        if (set.explicit) failure = e;
      }
    })();
  };
  const drop = (ctr: string) => {
    streams.get(ctr)?.destroy();
    streams.delete(ctr);
    latest.delete(ctr);
  };
  if (!set.explicit) {
    const events = await client.request('GET', '/events', { query: { filters: JSON.stringify({ type: ['container'] }) } });
    void (async () => {
      try {
        for await (const ev of client.jsonLines<{ Action?: string; status?: string; id?: string; Actor?: { ID?: string } }>(events)) {
          const id = shortId(ev.Actor?.ID ?? ev.id ?? '');
          const action = ev.Action ?? ev.status;
          if (action === 'start' || (action === 'create' && set.all)) follow(id);
          else if (action === 'destroy' || (action === 'die' && !set.all)) drop(id);
        }
      } catch (e) {
        failure = e;
      }
      failure ??= new Error('the daemon closed the event stream');
    })();
  }
  for (const c of await set.list()) follow(c);
  const clear = process.stdout.isTTY ? '\x1b[2J\x1b[H' : '';
  for (;;) {
    if (failure) throw failure;
    ctx.out(clear + render([...latest.entries()].map(([c, s]) => new StatsRow(c, s, trunc))));
    await new Promise((r) => setTimeout(r, 500));
  }
}
