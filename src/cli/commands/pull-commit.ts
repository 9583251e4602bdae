import { CliExit } from '../cli-context.js';
import { checkReference, parseBool, splitReference, UsageError } from '../options/parse-values.js';
import { pullImage } from '../progress.js';
import type { CommandSpec } from './define.js';

/** docker.io/library/busybox:latest for "busybox", as `docker pull` names what it pulled. */
export function fullyQualified(ref: string): string {
  const { name, tag, full } = splitReference(ref);
  const first = name.split('/')[0];
  const hasDomain = name.includes('/') && (/[.:]/.test(first) || first === 'localhost');
  const qualified = hasDomain ? name : name.includes('/') ? `docker.io/${name}` : `docker.io/library/${name}`;
  return full.includes('@') ? `${qualified}@${tag}` : `${qualified}:${tag}`;
}

export const pull: CommandSpec = {
  name: 'pull', usage: '[OPTIONS] NAME[:TAG|@DIGEST]', description: 'Download an image from a registry', args: { min: 1, max: 1 },
  setup: (c) => {
    c.option('-a, --all-tags', 'Download all tagged images in the repository');
    c.option('--platform <string>', 'Set platform if server is multi-platform capable');
    c.option('-q, --quiet', 'Suppress verbose output');
  },
  action: async (ctx, [ref], o) => {
    // A bad name is a plain error here (exit 1, no usage hint), as docker prints it.
    try { checkReference(ref); } catch (e) { throw new CliExit(1, (e as Error).message); }
    const r = splitReference(ref);
    const write = o.quiet ? () => undefined : (s: string) => ctx.out(s);
    if (o.allTags) {
      if (r.full !== `${ref}:latest`) throw new UsageError('tag can\'t be used with --all-tags/-a');
      await pullImage(ctx.client(), r.name, undefined, write, o.platform, !!process.stdout.isTTY);
      ctx.out(`${fullyQualified(ref).replace(/:latest$/, '')}\n`);
      return 0;
    }
    if (!o.quiet && r.full !== ref) ctx.out(`Using default tag: ${r.tag}\n`);
    await pullImage(ctx.client(), r.name, r.tag, write, o.platform, !!process.stdout.isTTY);
    ctx.out(`${fullyQualified(ref)}\n`);
    return 0;
  },
};

export const commit: CommandSpec = {
  name: 'commit', usage: "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]", description: "Create a new image from a container's changes", args: { min: 1, max: 2 },
  setup: (c) => {
    c.option('-a, --author <string>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")');
    c.option('-c, --change <list>', 'Apply Dockerfile instruction to the created image', (v: string, p: string[] = []) => p.concat(v), []);
    c.option('-m, --message <string>', 'Commit message');
    c.option('-p, --pause [bool]', 'Pause container during commit', true);
  },
  action: async (ctx, [container, ref], o) => {
    let repo: string | undefined;
    let tag: string | undefined;
    if (ref) {
      checkReference(ref);
      const s = splitReference(ref);
      repo = s.name;
      tag = s.tag;
    }
    const r = await ctx.client().json('POST', '/commit', {
      query: { container, repo, tag, comment: o.message, author: o.author, changes: o.change, pause: parseBool(o.pause, '--pause') },
      body: {},
    });
    ctx.out(`${r.Id}\n`);
    return 0;
  },
};
