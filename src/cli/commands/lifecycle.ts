import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { DaemonError } from '../../client/index.js';
import { CliExit, type CliContext } from '../cli-context.js';
import { humanSize } from '../format/human.js';
import { renderTable } from '../format/tabwriter.js';
import { parseIntFlag, UsageError } from '../options/parse-values.js';
import { runSession } from '../attach-session.js';
import type { CommandSpec } from './define.js';

const enc = encodeURIComponent;

/**
 * Runs `call` for each named container, printing the name on success and the
 * daemon's error otherwise; any failure makes the exit code 1 (docker stop a b).
 * With `parallel` (rm, stop, kill, as the docker CLI does) up to 50 calls are
 * in flight at once; results still print in argument order.
 */
async function eachContainer(ctx: CliContext, names: string[], call: (name: string) => Promise<unknown>, echo = true, parallel = false): Promise<number> {
  // undefined on success, the DaemonError otherwise; any other error rejects.
  const attempt = (n: string) => call(n).then(() => undefined, (e) => (e instanceof DaemonError ? e : Promise.reject(e)));
  const outcomes = parallel ? limited(names, 50, attempt) : undefined;
  let code = 0;
  for (let i = 0; i < names.length; i++) {
    const failed = outcomes ? await outcomes[i] : await attempt(names[i]);
    if (failed) {
      ctx.err(`${failed.display}\n`);
      code = 1;
    } else if (echo) ctx.out(`${names[i]}\n`);
  }
  return code;
}

/** Starts `fn` for every item, at most `limit` at a time; one promise per item, in order. */
function limited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R>[] {
  let active = 0;
  const queue: (() => void)[] = [];
  const acquire = () => (active < limit ? (active++, Promise.resolve()) : new Promise<void>((r) => queue.push(r)));
  const release = () => { const next = queue.shift(); if (next) next(); else active--; };
  const all = items.map(async (item) => {
    await acquire();
    try { return await fn(item); } finally { release(); }
  });
  for (const p of all) p.catch(() => undefined); // awaited in order later; don't let an early failure go unhandled
  return all;
}

const post = (ctx: CliContext, path: string, query?: Record<string, string | number | boolean | undefined>) =>
  ctx.client().request('POST', path, { query }).then((r) => r.resume());

export const stop: CommandSpec = {
  name: 'stop', usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Stop one or more running containers', args: { min: 1 },
  setup: (c) => { c.option('-s, --signal <string>', 'Signal to send to the container'); c.option('-t, --time <int>', 'Seconds to wait before killing the container'); },
  action: (ctx, args, o) => {
    const t = o.time !== undefined ? parseIntFlag(o.time, '--time') : undefined;
    return eachContainer(ctx, args, (n) => post(ctx, `/containers/${enc(n)}/stop`, { t, signal: o.signal }), true, true);
  },
};

export const restart: CommandSpec = {
  name: 'restart', usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Restart one or more containers', args: { min: 1 },
  setup: (c) => { c.option('-s, --signal <string>', 'Signal to send to the container'); c.option('-t, --time <int>', 'Seconds to wait before killing the container'); },
  action: (ctx, args, o) => {
    const t = o.time !== undefined ? parseIntFlag(o.time, '--time') : undefined;
    return eachContainer(ctx, args, (n) => post(ctx, `/containers/${enc(n)}/restart`, { t, signal: o.signal }));
  },
};

export const kill: CommandSpec = {
  name: 'kill', usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Kill one or more running containers', args: { min: 1 },
  setup: (c) => c.option('-s, --signal <string>', 'Signal to send to the container'),
  action: (ctx, args, o) => eachContainer(ctx, args, (n) => post(ctx, `/containers/${enc(n)}/kill`, { signal: o.signal }), true, true),
};

export const pause: CommandSpec = {
  name: 'pause', usage: 'CONTAINER [CONTAINER...]', description: 'Pause all processes within one or more containers', args: { min: 1 },
  action: (ctx, args) => eachContainer(ctx, args, (n) => post(ctx, `/containers/${enc(n)}/pause`)),
};

export const unpause: CommandSpec = {
  name: 'unpause', usage: 'CONTAINER [CONTAINER...]', description: 'Unpause all processes within one or more containers', args: { min: 1 },
  action: (ctx, args) => eachContainer(ctx, args, (n) => post(ctx, `/containers/${enc(n)}/unpause`)),
};

export const wait: CommandSpec = {
  name: 'wait', usage: 'CONTAINER [CONTAINER...]', description: 'Block until one or more containers stop, then print their exit codes', args: { min: 1 },
  action: (ctx, args) => eachContainer(ctx, args, async (n) => {
    const r = await ctx.client().json('POST', `/containers/${enc(n)}/wait`);
    ctx.out(`${r.StatusCode}\n`);
  }, false),
};

export const rm: CommandSpec = {
  name: 'rm', usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Remove one or more containers', args: { min: 1 },
  setup: (c) => {
    c.option('-f, --force', 'Force the removal of a running container (uses SIGKILL)');
    c.option('-l, --link', 'Remove the specified link');
    c.option('-v, --volumes', 'Remove anonymous volumes associated with the container');
  },
  action: (ctx, args, o) => eachContainer(ctx, args, (n) =>
    ctx.client().request('DELETE', `/containers/${enc(n)}`, { query: { force: !!o.force, v: !!o.volumes, link: !!o.link } }).then((r) => r.resume()), true, true),
};

export const rename: CommandSpec = {
  name: 'rename', usage: 'CONTAINER NEW_NAME', description: 'Rename a container', args: { min: 2, max: 2 },
  action: async (ctx, [from, to]) => {
    if (!to.trim()) throw new CliExit(1, 'Error: neither old nor new names may be empty');
    try {
      await post(ctx, `/containers/${enc(from)}/rename`, { name: to });
    } catch (e) {
      if (!(e instanceof DaemonError)) throw e;
      throw new CliExit(1, `${e.display}\nError: failed to rename container named ${from}`);
    }
    return 0;
  },
};

export const top: CommandSpec = {
  name: 'top', usage: 'CONTAINER [ps OPTIONS]', description: 'Display the running processes of a container', args: { min: 1 },
  passThrough: true,
  action: async (ctx, [name, ...psArgs]) => {
    const r = await ctx.client().json('GET', `/containers/${enc(name)}/top`, { query: { ps_args: psArgs.length ? psArgs.join(' ') : undefined } });
    const lines = [(r.Titles ?? []).join('\t'), ...(r.Processes ?? []).map((p: string[]) => p.join('\t'))];
    ctx.out(renderTable(lines, 20, 3));
    return 0;
  },
};

export const prune: CommandSpec = {
  name: 'prune', usage: '[OPTIONS]', description: 'Remove all stopped containers', args: { max: 0 },
  setup: (c) => {
    c.option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', (v: string, p: string[] = []) => p.concat(v), []);
    c.option('-f, --force', 'Do not prompt for confirmation');
  },
  action: async (ctx, _args, o) => {
    if (!o.force && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] '))) return 0;
    const r = await ctx.client().json('POST', '/containers/prune', { query: { filters: filtersJson(o.filter) } });
    const ids: string[] = r.ContainersDeleted ?? [];
    if (ids.length) ctx.out(`Deleted Containers:\n${ids.join('\n')}\n\n`);
    ctx.out(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`);
    return 0;
  },
};

export const exportCmd: CommandSpec = {
  name: 'export', usage: '[OPTIONS] CONTAINER', description: "Export a container's filesystem as a tar archive", args: { min: 1, max: 1 },
  setup: (c) => c.option('-o, --output <string>', 'Write to a file, instead of STDOUT'),
  action: async (ctx, [name], o) => {
    if (!o.output && process.stdout.isTTY) throw new CliExit(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
    const res = await ctx.client().request('GET', `/containers/${enc(name)}/export`);
    await pipeline(res, o.output ? createWriteStream(o.output) : process.stdout, { end: !!o.output });
    return 0;
  },
};

export const attach: CommandSpec = {
  name: 'attach', usage: '[OPTIONS] CONTAINER', description: "Attach local standard input, output, and error streams to a running container", args: { min: 1, max: 1 },
  setup: (c) => {
    c.option('--detach-keys <string>', 'Override the key sequence for detaching a container');
    c.option('--no-stdin', 'Do not attach STDIN');
    c.option('--sig-proxy [bool]', 'Proxy all received signals to the process', true);
  },
  action: async (ctx, [name], o) => {
    const client = ctx.client();
    const info = await client.json('GET', `/containers/${enc(name)}/json`);
    if (!info.State?.Running) throw new CliExit(1, 'You cannot attach to a stopped container, start it first');
    if (info.State?.Paused) throw new CliExit(1, 'You cannot attach to a paused container, unpause it first');
    const tty = !!info.Config?.Tty;
    return runSession(client, {
      id: info.Id, tty, stdin: o.stdin !== false && !!info.Config?.OpenStdin, stdout: true, stderr: true,
      detachKeys: o.detachKeys, sigProxy: !tty && o.sigProxy !== 'false', condition: 'next-exit',
    });
  },
};

/** `--filter k=v` flags → Docker's `filters` JSON (`{"k":{"v":true}}`). */
export function filtersJson(list: string[] | undefined): string | undefined {
  if (!list?.length) return undefined;
  const f: Record<string, Record<string, boolean>> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid argument "${item}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    const k = item.slice(0, eq).trim().toLowerCase();
    (f[k] ??= {})[item.slice(eq + 1)] = true;
  }
  return JSON.stringify(f);
}

export async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  ctx.out(question);
  const answer = await new Promise<string>((resolve) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) done();
    };
    const done = () => { process.stdin.off('data', onData); process.stdin.off('end', done); process.stdin.pause(); resolve(buf); };
    process.stdin.on('data', onData);
    process.stdin.on('end', done);
  });
  return /^\s*y(es)?\s*$/i.test(answer.split('\n')[0]);
}

export const port: CommandSpec = {
  name: 'port', usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]', description: 'List port mappings or a specific mapping for the container', args: { min: 1, max: 2 },
  action: async (ctx, [name, want]) => {
    const info = await ctx.client().json('GET', `/containers/${enc(name)}/json`);
    const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = info.NetworkSettings?.Ports ?? {};
    const fmt = (b: { HostIp: string; HostPort: string }) => `${b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp || '0.0.0.0'}:${b.HostPort}`;
    if (want) {
      const key = want.includes('/') ? want : `${want}/tcp`;
      const bindings = ports[key];
      if (!bindings?.length) throw new CliExit(1, `Error: No public port '${key}' published for ${name}`);
      for (const b of bindings) ctx.out(`${fmt(b)}\n`);
      return 0;
    }
    const keys = Object.keys(ports).sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || a.localeCompare(b));
    for (const k of keys) for (const b of ports[k] ?? []) ctx.out(`${k} -> ${fmt(b)}\n`);
    return 0;
  },
};
