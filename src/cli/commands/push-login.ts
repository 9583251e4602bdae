import { spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CliExit } from '../cli-context.js';
import { authKey, configFile, removeLogin, saveLogin } from '../docker-config.js';
import { checkReference, splitReference, UsageError } from '../options/parse-values.js';
import { pushImage } from '../progress.js';
import type { CommandSpec } from './define.js';

export const push: CommandSpec = {
  name: 'push', usage: '[OPTIONS] NAME[:TAG]', description: 'Upload an image to a registry', args: { min: 1, max: 1 },
  setup: (c) => {
    c.option('-a, --all-tags', 'Push all tags of an image to the repository');
    c.option('-q, --quiet', 'Suppress verbose output');
  },
  action: async (ctx, [ref], o) => {
    // A bad name is a plain error here (exit 1, no usage hint), as docker prints it.
    try { checkReference(ref); } catch (e) { throw new CliExit(1, (e as Error).message); }
    const r = splitReference(ref);
    const tagged = r.full === ref && !ref.includes('@');
    if (o.allTags && tagged) throw new UsageError('tag can\'t be used with --all-tags/-a');
    if (!o.allTags && !tagged && !o.quiet) ctx.out(`Using default tag: ${r.tag}\n`);
    const write = o.quiet ? () => undefined : (s: string) => ctx.out(s);
    await pushImage(ctx.client(), r.name, o.allTags ? undefined : r.tag, write, !!process.stdout.isTTY);
    if (o.quiet) ctx.out(`${o.allTags ? r.name : r.full}\n`);
    return 0;
  },
};

export const login: CommandSpec = {
  name: 'login', usage: '[OPTIONS] [SERVER]', description: 'Log in to a registry', args: { max: 1 },
  setup: (c) => {
    c.option('-p, --password <string>', 'Password');
    c.option('--password-stdin', 'Take the password from stdin');
    c.option('-u, --username <string>', 'Username');
  },
  action: async (ctx, [server], o) => {
    let password: string | undefined = o.password;
    if (o.passwordStdin) {
      if (password !== undefined) throw new UsageError('--password and --password-stdin are mutually exclusive');
      if (!o.username) throw new UsageError('Must provide --username with --password-stdin');
      password = (await readAllStdin()).replace(/\r?\n$/, '');
    } else if (password !== undefined) {
      ctx.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    }
    const username: string = o.username ?? (await prompt(ctx, 'Username: ', false));
    if (!username) throw new CliExit(1, 'Error: Non-null Username Required');
    if (password === undefined) password = await prompt(ctx, 'Password: ', true);
    if (!password) throw new CliExit(1, 'Error: Password Required');
    const serveraddress = authKey(server);
    const res = await ctx.client().json('POST', '/auth', { body: { username, password, serveraddress } });
    await saveLogin(ctx.env, serveraddress, username, password);
    ctx.err(`WARNING! Your password will be stored unencrypted in ${configFile(ctx.env)}.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/engine/reference/commandline/login/#credentials-store\n\n`);
    ctx.out(`${res?.Status ?? 'Login Succeeded'}\n`);
    return 0;
  },
};

export const logout: CommandSpec = {
  name: 'logout', usage: '[SERVER]', description: 'Log out from a registry', args: { max: 1 },
  action: async (ctx, [server]) => {
    const key = authKey(server);
    if (await removeLogin(ctx.env, key)) ctx.out(`Removing login credentials for ${key}\n`);
    else ctx.out(`Not logged in to ${key}\n`);
    return 0;
  },
};

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from stdin after a prompt; hides what is typed for passwords on a terminal. */
async function prompt(ctx: { out(s: string): void }, question: string, secret: boolean): Promise<string> {
  ctx.out(question);
  const rl = createInterface({ input: process.stdin, terminal: false });
  const wasRaw = process.stdin.isTTY && secret;
  if (wasRaw) spawnEchoOff(true);
  try {
    const line = await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    return line.trim();
  } finally {
    if (wasRaw) { spawnEchoOff(false); ctx.out('\n'); }
    rl.close();
  }
}

/** Terminal echo off/on for password entry (Node has no switch of its own; `stty` is the one program this file calls). */
function spawnEchoOff(off: boolean): void {
  spawnSync('stty', [off ? '-echo' : 'echo'], { stdio: ['inherit', 'ignore', 'ignore'] });
}
