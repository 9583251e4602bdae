import { CliExit } from '../cli-context.js';
import { expandEnv, readEnvFile } from '../options/parse-values.js';
import { enterRawMode, followTerminalSize, parseDetachKeys, pumpStreams } from '../streams.js';
import { checkDetachKeys } from '../attach-session.js';
import type { CommandSpec } from './define.js';

const collect = (v: string, p: string[] = []) => p.concat(v);

export const exec: CommandSpec = {
  name: 'exec', usage: '[OPTIONS] CONTAINER COMMAND [ARG...]', description: 'Execute a command in a running container', args: { min: 2 },
  passThrough: true,
  setup: (c) => {
    c.option('-d, --detach', 'Detached mode: run command in the background');
    c.option('--detach-keys <string>', 'Override the key sequence for detaching a container');
    c.option('-e, --env <list>', 'Set environment variables', collect, []);
    c.option('--env-file <list>', 'Read in a file of environment variables', collect, []);
    c.option('-i, --interactive', 'Keep STDIN open even if not attached');
    c.option('--privileged', 'Give extended privileges to the command');
    c.option('-t, --tty', 'Allocate a pseudo-TTY');
    c.option('-u, --user <string>', 'Username or UID (format: "<name|uid>[:<group|gid>]")');
    c.option('-w, --workdir <string>', 'Working directory inside the container');
  },
  action: async (ctx, [name, ...cmd], o) => {
    checkDetachKeys(o.detachKeys, parseDetachKeys);
    if (o.tty && o.interactive && !o.detach && !process.stdin.isTTY) throw new CliExit(1, 'the input device is not a TTY');
    const client = ctx.client();
    const env = [...(o.envFile as string[]).flatMap((f) => readEnvFile(f, ctx.env)), ...(o.env as string[]).map((e) => expandEnv(e, ctx.env))];
    const attach = !o.detach;
    const created = await client.json('POST', `/containers/${encodeURIComponent(name)}/exec`, {
      body: {
        User: o.user ?? '', Privileged: !!o.privileged, Tty: !!o.tty,
        AttachStdin: attach && !!o.interactive, AttachStdout: attach, AttachStderr: attach,
        DetachKeys: o.detachKeys ?? '', Env: env, WorkingDir: o.workdir ?? '', Cmd: cmd,
      },
    });
    const id: string = created.Id;
    if (o.detach) {
      (await client.request('POST', `/exec/${id}/start`, { body: { Detach: true, Tty: !!o.tty } })).resume();
      return 0;
    }
    const h = await client.hijack('POST', `/exec/${id}/start`, { body: { Detach: false, Tty: !!o.tty } });
    const restore = o.tty && o.interactive ? enterRawMode() : () => undefined;
    const stopResize = o.tty ? followTerminalSize(({ h: rows, w }) => client.request('POST', `/exec/${id}/resize`, { query: { h: rows, w } }).then((r) => r.resume())) : () => undefined;
    try {
      const how = await pumpStreams(h, { tty: !!o.tty, stdin: !!o.interactive, detachKeys: o.detachKeys });
      if (how === 'detached') return 0;
    } finally {
      stopResize();
      restore();
    }
    // The output can end a moment before the daemon records the exit code.
    for (let i = 0; ; i++) {
      const info = await client.json('GET', `/exec/${id}/json`);
      if (!info.Running || i >= 40) return Number(info.ExitCode ?? 0);
      await new Promise((r) => setTimeout(r, 50));
    }
  },
};
