import type { CommandSpec } from './define.js';

const KINDS = ['C', 'A', 'D'];

export const diff: CommandSpec = {
  name: 'diff', usage: 'CONTAINER', description: "Inspect changes to files or directories on a container's filesystem", args: { min: 1, max: 1 },
  action: async (ctx, [name]) => {
    const changes: { Path: string; Kind: number }[] | null = await ctx.client().json('GET', `/containers/${encodeURIComponent(name)}/changes`);
    ctx.out((changes ?? []).map((c) => `${KINDS[c.Kind] ?? '?'} ${c.Path}\n`).join(''));
    return 0;
  },
};
