import { existsSync, writeFileSync } from 'node:fs';
import { DaemonError } from '../../client/index.js';
import type { CliContext } from '../cli-context.js';
import { CliExit } from '../cli-context.js';
import { addContainerFlags, buildCreateBody, sigProxyEnabled, type ContainerFlags, type CreateBody } from '../options/container-flags.js';
import { UsageError, splitReference } from '../options/parse-values.js';
import { pullImage } from '../progress.js';
import { checkDetachKeys, runSession, startFailureCode } from '../attach-session.js';
import { parseDetachKeys } from '../streams.js';
import type { CommandSpec } from './define.js';

/**
 * Creates a container, pulling the image first when the daemon does not have
 * it (`Unable to find image 'x:latest' locally`), as the docker CLI does.
 */
export async function createContainer(ctx: CliContext, body: CreateBody, o: ContainerFlags): Promise<string> {
  const client = ctx.client();
  const ref = splitReference(body.Image);
  const pull = o.pull ?? 'missing';
  if (!['always', 'missing', 'never'].includes(pull)) throw new UsageError(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  if (o.cidfile && existsSync(o.cidfile)) throw new CliExit(125, `Container ID file found, make sure the other container isn't running or delete ${o.cidfile}`);
  const progress = (s: string) => ctx.err(s);
  // As docker does: give a tty its size at create, so it is right before the first resize.
  if (body.Tty && process.stdout.isTTY && process.stdout.rows > 0) {
    (body.HostConfig as Record<string, unknown>).ConsoleSize = [process.stdout.rows, process.stdout.columns];
  }
  if (pull === 'always') await pullImage(client, ref.name, ref.tag, progress, o.platform, !!process.stderr.isTTY);
  const create = () => client.json('POST', '/containers/create', { query: { name: o.name, platform: o.platform }, body });
  let res: { Id: string; Warnings?: string[] | null };
  try {
    res = await create();
  } catch (e) {
    if (!(e instanceof DaemonError) || e.status !== 404 || !/image/i.test(e.message) || pull !== 'missing') throw e;
    ctx.err(`Unable to find image '${ref.full}' locally\n`);
    await pullImage(client, ref.name, ref.tag, progress, o.platform, !!process.stderr.isTTY);
    res = await create();
  }
  for (const w of res.Warnings ?? []) ctx.err(`WARNING: ${w}\n`);
  if (o.cidfile) writeFileSync(o.cidfile, res.Id);
  return res.Id;
}

/** Docker appends a full stop to errors it reports for run/create. */
function runError(e: unknown): Error {
  if (e instanceof DaemonError && !e.message.endsWith('.')) return new DaemonError(e.status, `${e.message}.`);
  return e as Error;
}

export const run: CommandSpec = {
  name: 'run',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  description: 'Create and run a new container from an image',
  args: { min: 1 },
  passThrough: true,
  daemonExit: 125,
  hintOnError: true,
  setup: (c) => {
    addContainerFlags(c);
    c.option('-d, --detach', 'Run container in background and print container ID');
    c.option('--detach-keys <string>', 'Override the key sequence for detaching a container');
    c.option('--sig-proxy [bool]', 'Proxy received signals to the process', true);
  },
  action: async (ctx, args, o: ContainerFlags) => {
    const [image, ...cmd] = args;
    const body = buildCreateBody(image, cmd, o, ctx.env);
    checkDetachKeys(o.detachKeys, parseDetachKeys);
    const sigProxy = sigProxyEnabled(o);
    if (body.Tty && body.AttachStdin && !process.stdin.isTTY) throw new CliExit(1, 'the input device is not a TTY');
    let id: string;
    try {
      id = await createContainer(ctx, body, o);
    } catch (e) {
      throw runError(e);
    }
    const client = ctx.client();
    const start = async () => {
      try {
        (await client.request('POST', `/containers/${id}/start`)).resume();
      } catch (e) {
        const msg = e instanceof DaemonError ? e.display : (e as Error).message;
        throw new CliExit(startFailureCode(msg), `berth: ${msg}${msg.endsWith('.') ? '' : '.'}`);
      }
    };
    if (o.detach) {
      await start();
      ctx.out(`${id}\n`);
      return 0;
    }
    return runSession(client, {
      id,
      tty: !!body.Tty,
      stdin: !!body.AttachStdin,
      stdout: !!body.AttachStdout,
      stderr: !!body.AttachStderr,
      detachKeys: o.detachKeys,
      sigProxy: sigProxy && !body.Tty,
      condition: body.HostConfig.AutoRemove ? 'removed' : 'next-exit',
      start,
    });
  },
};

export const create: CommandSpec = {
  name: 'create',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  description: 'Create a new container',
  args: { min: 1 },
  passThrough: true,
  daemonExit: 125,
  hintOnError: true,
  setup: (c) => addContainerFlags(c),
  action: async (ctx, args, o: ContainerFlags) => {
    const [image, ...cmd] = args;
    const body = buildCreateBody(image, cmd, o, ctx.env);
    try {
      ctx.out(`${await createContainer(ctx, body, o)}\n`);
    } catch (e) {
      throw runError(e);
    }
    return 0;
  },
};

export const start: CommandSpec = {
  name: 'start',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Start one or more stopped containers',
  args: { min: 1 },
  setup: (c) => {
    c.option('-a, --attach', "Attach STDOUT/STDERR and forward signals");
    c.option('--detach-keys <string>', 'Override the key sequence for detaching a container');
    c.option('-i, --interactive', "Attach container's STDIN");
  },
  action: async (ctx, args, o) => {
    const client = ctx.client();
    if (o.attach || o.interactive) {
      if (args.length > 1) throw new CliExit(1, 'you cannot start and attach multiple containers at once');
      checkDetachKeys(o.detachKeys, parseDetachKeys);
      const info = await client.json('GET', `/containers/${encodeURIComponent(args[0])}/json`);
      const tty = !!info.Config?.Tty;
      return runSession(client, {
        id: info.Id,
        tty,
        stdin: !!o.interactive && !!info.Config?.OpenStdin,
        stdout: true,
        stderr: true,
        detachKeys: o.detachKeys,
        sigProxy: !tty,
        condition: info.HostConfig?.AutoRemove ? 'removed' : 'next-exit',
        start: async () => { (await client.request('POST', `/containers/${info.Id}/start`)).resume(); },
      });
    }
    const failed: string[] = [];
    for (const name of args) {
      try {
        (await client.request('POST', `/containers/${encodeURIComponent(name)}/start`)).resume();
        ctx.out(`${name}\n`);
      } catch (e) {
        if (!(e instanceof DaemonError)) throw e;
        ctx.err(`${e.display}\n`);
        failed.push(name);
      }
    }
    if (failed.length) throw new CliExit(1, `Error: failed to start containers: ${failed.join(', ')}`);
    return 0;
  },
};
