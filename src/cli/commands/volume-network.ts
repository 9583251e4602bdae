import type { Command } from 'commander';
import { DaemonError } from '../../client/index.js';
import { CliExit, type CliContext } from '../cli-context.js';
import { compileTemplate } from '../format/gotemplate.js';
import { humanSize } from '../format/human.js';
import { listRenderer } from '../format/list-format.js';
import type { CommandSpec } from './define.js';

const collect = (v: string, prev: string[] = []) => prev.concat(v);

/** `key=value` flags (`--label`, `-o`) into an object. */
function keyValues(list: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    out[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '' : kv.slice(i + 1);
  }
  return out;
}

/** `--filter a=b` flags into the API's filters JSON. */
function filtersJson(list: string[] = []): string | undefined {
  if (!list.length) return undefined;
  const f: Record<string, string[]> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i < 0) throw new CliExit(125, `bad format of filter (expected name=value)`);
    (f[kv.slice(0, i)] ??= []).push(kv.slice(i + 1));
  }
  return JSON.stringify(f);
}

/** Inspect-style output for objects fetched one by one. */
async function inspectEach(ctx: CliContext, refs: string[], path: (ref: string) => string, format?: string): Promise<number> {
  const tmpl = format && format !== 'json' ? compileTemplate(format) : undefined;
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const ref of refs) {
    try {
      found.push(await ctx.client().json('GET', path(ref)));
    } catch (e) {
      if (!(e instanceof DaemonError && e.status === 404)) throw e;
      errors.push(e.display);
    }
  }
  if (tmpl) for (const o of found) ctx.out(`${tmpl.execute(o)}\n`);
  else ctx.out(`${JSON.stringify(found, null, 4)}\n`);
  if (errors.length) throw new CliExit(1, errors.join('\n'));
  return 0;
}

/** Removes each object, printing its name, and fails at the end if any failed (as docker does). */
async function removeEach(ctx: CliContext, refs: string[], path: (ref: string) => string): Promise<number> {
  const errors: string[] = [];
  for (const ref of refs) {
    try {
      (await ctx.client().request('DELETE', path(ref))).resume();
      ctx.out(`${ref}\n`);
    } catch (e) {
      if (!(e instanceof DaemonError)) throw e;
      errors.push(e.display);
    }
  }
  if (errors.length) throw new CliExit(1, errors.join('\n'));
  return 0;
}

const formatOpt = (c: Command) => c.option('-f, --format <string>', 'Format output using a custom template');
const enc = encodeURIComponent;

export const VOLUME_COMMANDS: CommandSpec[] = [
  {
    name: 'create', usage: '[OPTIONS] [VOLUME]', description: 'Create a volume', args: { max: 1 },
    setup: (c) => c.option('-d, --driver <string>', 'Specify volume driver name', 'local')
      .option('--label <list>', 'Set metadata for a volume', collect, [])
      .option('-o, --opt <map>', 'Set driver specific options', collect, []),
    async action(ctx, args, o) {
      const v = await ctx.client().json('POST', '/volumes/create', { body: { Name: args[0] ?? '', Driver: o.driver, Labels: keyValues(o.label), DriverOpts: keyValues(o.opt) } });
      ctx.out(`${v.Name}\n`);
    },
  },
  {
    name: 'ls', usage: '[OPTIONS]', description: 'List volumes',
    setup: (c) => c.option('-q, --quiet', 'Only display volume names').option('-f, --filter <filter>', "Provide filter values (e.g. 'dangling=true')", collect, [])
      .option('--format <string>', 'Format output using a custom template'),
    async action(ctx, _args, o) {
      const r = await ctx.client().json('GET', '/volumes', { query: { filters: filtersJson(o.filter) } });
      const rows = (r.Volumes ?? []).sort((a: any, b: any) => a.Name.localeCompare(b.Name));
      const render = listRenderer(o.quiet ? '{{.Name}}' : o.format, 'table {{.Driver}}\t{{.Name}}', { Driver: 'DRIVER', Name: 'VOLUME NAME', Mountpoint: 'MOUNTPOINT', Scope: 'SCOPE' });
      ctx.out(render(rows));
    },
  },
  {
    name: 'inspect', usage: '[OPTIONS] VOLUME [VOLUME...]', description: 'Display detailed information on one or more volumes', args: { min: 1 },
    setup: formatOpt,
    action: (ctx, args, o) => inspectEach(ctx, args, (r) => `/volumes/${enc(r)}`, o.format),
  },
  {
    name: 'rm', usage: '[OPTIONS] VOLUME [VOLUME...]', description: 'Remove one or more volumes', args: { min: 1 },
    setup: (c) => c.option('-f, --force', 'Force the removal of one or more volumes'),
    action: (ctx, args, o) => removeEach(ctx, args, (r) => `/volumes/${enc(r)}${o.force ? '?force=1' : ''}`),
  },
  {
    name: 'prune', usage: '[OPTIONS]', description: 'Remove unused local volumes',
    setup: (c) => c.option('-a, --all', 'Remove all unused volumes, not just anonymous ones').option('-f, --force', 'Do not prompt for confirmation')
      .option('--filter <filter>', 'Provide filter values', collect, []),
    async action(ctx, _args, o) {
      const filters = o.filter.length || o.all ? JSON.parse(filtersJson([...o.filter, ...(o.all ? ['all=true'] : [])])!) : undefined;
      const r = await ctx.client().json('POST', '/volumes/prune', { query: { filters: filters ? JSON.stringify(filters) : undefined } });
      if (r.VolumesDeleted?.length) ctx.out(`Deleted Volumes:\n${r.VolumesDeleted.join('\n')}\n\n`);
      ctx.out(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`);
    },
  },
];

export const NETWORK_COMMANDS: CommandSpec[] = [
  {
    name: 'create', usage: '[OPTIONS] NETWORK', description: 'Create a network', args: { min: 1, max: 1 },
    setup: (c) => c.option('-d, --driver <string>', 'Driver to manage the Network', 'bridge')
      .option('--subnet <strings>', 'Subnet in CIDR format that represents a network segment', collect, [])
      .option('--gateway <strings>', 'IPv4 or IPv6 Gateway for the master subnet', collect, [])
      .option('--ip-range <strings>', 'Allocate container ip from a sub-range', collect, [])
      .option('--internal', 'Restrict external access to the network')
      .option('--label <list>', 'Set metadata on a network', collect, [])
      .option('-o, --opt <map>', 'Set driver specific options', collect, []),
    async action(ctx, args, o) {
      const config = (o.subnet as string[]).map((s, i) => ({ Subnet: s, ...(o.gateway[i] ? { Gateway: o.gateway[i] } : {}), ...(o.ipRange[i] ? { IPRange: o.ipRange[i] } : {}) }));
      const r = await ctx.client().json('POST', '/networks/create', {
        body: { Name: args[0], Driver: o.driver, Internal: !!o.internal, Labels: keyValues(o.label), Options: keyValues(o.opt), IPAM: { Driver: 'default', Config: config } },
      });
      ctx.out(`${r.Id}\n`);
    },
  },
  {
    name: 'ls', usage: '[OPTIONS]', description: 'List networks',
    setup: (c) => c.option('-q, --quiet', 'Only display network IDs').option('--no-trunc', 'Do not truncate the output')
      .option('-f, --filter <filter>', "Provide filter values (e.g. 'driver=bridge')", collect, []).option('--format <string>', 'Format output using a custom template'),
    async action(ctx, _args, o) {
      const list = await ctx.client().json<any[]>('GET', '/networks', { query: { filters: filtersJson(o.filter) } });
      const rows = list.sort((a, b) => a.Name.localeCompare(b.Name)).map((n) => ({ ...n, ID: o.trunc === false ? n.Id : n.Id.slice(0, 12) }));
      const render = listRenderer(o.quiet ? '{{.ID}}' : o.format, 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}', { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE' });
      ctx.out(render(rows));
    },
  },
  {
    name: 'inspect', usage: '[OPTIONS] NETWORK [NETWORK...]', description: 'Display detailed information on one or more networks', args: { min: 1 },
    setup: formatOpt,
    action: (ctx, args, o) => inspectEach(ctx, args, (r) => `/networks/${enc(r)}`, o.format),
  },
  {
    name: 'rm', usage: 'NETWORK [NETWORK...]', description: 'Remove one or more networks', args: { min: 1 },
    action: (ctx, args) => removeEach(ctx, args, (r) => `/networks/${enc(r)}`),
  },
  {
    name: 'prune', usage: '[OPTIONS]', description: 'Remove all unused networks',
    setup: (c) => c.option('-f, --force', 'Do not prompt for confirmation').option('--filter <filter>', 'Provide filter values', collect, []),
    async action(ctx, _args, o) {
      const r = await ctx.client().json('POST', '/networks/prune', { query: { filters: filtersJson(o.filter) } });
      if (r.NetworksDeleted?.length) ctx.out(`Deleted Networks:\n${r.NetworksDeleted.join('\n')}\n`);
    },
  },
  {
    name: 'connect', usage: '[OPTIONS] NETWORK CONTAINER', description: 'Connect a container to a network', args: { min: 2, max: 2 },
    setup: (c) => c.option('--alias <strings>', 'Add network-scoped alias for the container', collect, []).option('--ip <string>', 'IPv4 address (e.g., "172.30.100.104")'),
    async action(ctx, args, o) {
      (await ctx.client().request('POST', `/networks/${enc(args[0])}/connect`, {
        body: { Container: args[1], EndpointConfig: { Aliases: o.alias, ...(o.ip ? { IPAMConfig: { IPv4Address: o.ip } } : {}) } },
      })).resume();
    },
  },
  {
    name: 'disconnect', usage: '[OPTIONS] NETWORK CONTAINER', description: 'Disconnect a container from a network', args: { min: 2, max: 2 },
    setup: (c) => c.option('-f, --force', 'Force the container to disconnect from a network'),
    async action(ctx, args, o) {
      (await ctx.client().request('POST', `/networks/${enc(args[0])}/disconnect`, { body: { Container: args[1], Force: !!o.force } })).resume();
    },
  },
];
