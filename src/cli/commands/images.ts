import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { DaemonError } from '../../client/index.js';
import { CliExit } from '../cli-context.js';
import { ago, goTimeString, humanSize } from '../format/human.js';
import { listRenderer, renderList } from '../format/list-format.js';
import { IMAGE_HEADERS, ellipsis, imageRows, shortId } from '../format/rows.js';
import { checkReference, UsageError } from '../options/parse-values.js';
import { printProgress } from '../progress.js';
import { confirm, filtersJson } from './lifecycle.js';
import type { CommandSpec } from './define.js';

const collect = (v: string, p: string[] = []) => p.concat(v);
const DEFAULT = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
const DEFAULT_DIGESTS = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';

export const images: CommandSpec = {
  name: 'images', usage: '[OPTIONS] [REPOSITORY[:TAG]]', description: 'List images', args: { max: 1 },
  setup: (c) => {
    c.option('-a, --all', 'Show all images (default hides intermediate images)');
    c.option('--digests', 'Show digests');
    c.option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, []);
    c.option('--format <string>', 'Format output using a custom template');
    c.option('--no-trunc', "Don't truncate output");
    c.option('-q, --quiet', 'Only show image IDs');
  },
  action: async (ctx, args, o) => {
    const filters: string[] = [...o.filter];
    if (args[0]) filters.push(`reference=${args[0]}`);
    const render = listRenderer(o.format, o.digests ? DEFAULT_DIGESTS : DEFAULT, IMAGE_HEADERS);
    const list: any[] = await ctx.client().json('GET', '/images/json', { query: { all: !!o.all, digests: !!o.digests, filters: filtersJson(filters) } });
    const trunc = o.trunc !== false;
    if (o.quiet) {
      const seen = new Set<string>();
      for (const img of list) {
        const id = trunc ? shortId(img.Id) : img.Id;
        if (!seen.has(id)) { seen.add(id); ctx.out(`${id}\n`); }
      }
      return 0;
    }
    ctx.out(render(imageRows(list, trunc)));
    return 0;
  },
};

export const rmi: CommandSpec = {
  name: 'rmi', usage: '[OPTIONS] IMAGE [IMAGE...]', description: 'Remove one or more images', args: { min: 1 },
  setup: (c) => {
    c.option('-f, --force', 'Force removal of the image');
    c.option('--no-prune', 'Do not delete untagged parents');
  },
  action: async (ctx, args, o) => {
    let code = 0;
    for (const ref of args) {
      try {
        const items: any[] = await ctx.client().json('DELETE', `/images/${ref}`, { query: { force: !!o.force, noprune: o.prune === false } });
        for (const it of items ?? []) {
          if (it.Untagged) ctx.out(`Untagged: ${it.Untagged}\n`);
          if (it.Deleted) ctx.out(`Deleted: ${it.Deleted}\n`);
        }
      } catch (e) {
        if (!(e instanceof DaemonError)) throw e;
        ctx.err(`${e.display}\n`);
        code = 1;
      }
    }
    return code;
  },
};

export const imagePrune: CommandSpec = {
  name: 'prune', usage: '[OPTIONS]', description: 'Remove unused images', args: { max: 0 },
  setup: (c) => {
    c.option('-a, --all', 'Remove all unused images, not just dangling ones');
    c.option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect, []);
    c.option('-f, --force', 'Do not prompt for confirmation');
  },
  action: async (ctx, _args, o) => {
    const warning = o.all
      ? 'WARNING! This will remove all images without at least one container associated to them.'
      : 'WARNING! This will remove all dangling images.';
    if (!o.force && !(await confirm(ctx, `${warning}\nAre you sure you want to continue? [y/N] `))) return 0;
    const filters = [...o.filter, `dangling=${o.all ? 'false' : 'true'}`];
    const r = await ctx.client().json('POST', '/images/prune', { query: { filters: filtersJson(filters) } });
    const items: any[] = r.ImagesDeleted ?? [];
    if (items.length) {
      ctx.out('Deleted Images:\n');
      for (const it of items) {
        if (it.Untagged) ctx.out(`untagged: ${it.Untagged}\n`);
        if (it.Deleted) ctx.out(`deleted: ${it.Deleted}\n`);
      }
      ctx.out('\n');
    }
    ctx.out(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`);
    return 0;
  },
};

const HISTORY_HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };

class HistoryRow {
  constructor(private readonly h: any, private readonly trunc: boolean, private readonly human: boolean) {}
  get ID(): string { return this.h.Id && this.h.Id !== '<missing>' ? (this.trunc ? shortId(this.h.Id) : this.h.Id) : '<missing>'; }
  get CreatedSince(): string { return this.human ? ago(this.h.Created ?? 0) : new Date((this.h.Created ?? 0) * 1000).toISOString().replace(/\.\d+Z$/, 'Z'); }
  get CreatedAt(): string { return goTimeString(this.h.Created ?? 0); }
  get CreatedBy(): string {
    const by = String(this.h.CreatedBy ?? '').replace(/\t/g, ' ');
    return this.trunc ? ellipsis(by, 45) : by;
  }
  get Size(): string { return this.human ? humanSize(this.h.Size ?? 0) : String(this.h.Size ?? 0); }
  get Comment(): string { return this.h.Comment ?? ''; }
  toJSON() { return { ID: this.ID, CreatedSince: this.CreatedSince, CreatedAt: this.CreatedAt, CreatedBy: this.CreatedBy, Size: this.Size, Comment: this.Comment }; }
}

export const history: CommandSpec = {
  name: 'history', usage: '[OPTIONS] IMAGE', description: 'Show the history of an image', args: { min: 1, max: 1 },
  setup: (c) => {
    c.option('--format <string>', 'Format output using a custom template');
    c.option('-H, --human [bool]', 'Print sizes and dates in human readable format', true);
    c.option('--no-trunc', "Don't truncate output");
    c.option('-q, --quiet', 'Only show image IDs');
  },
  action: async (ctx, [ref], o) => {
    const items: any[] = await ctx.client().json('GET', `/images/${ref}/history`);
    const human = o.human !== 'false';
    const rows = items.map((h) => new HistoryRow(h, o.trunc !== false, human));
    const format = o.quiet ? '{{.ID}}' : o.format;
    ctx.out(renderList(rows, format, 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}', HISTORY_HEADERS));
    return 0;
  },
};

export const tag: CommandSpec = {
  name: 'tag', usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]', description: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE', args: { min: 2, max: 2 },
  action: async (ctx, [source, target]) => {
    checkReference(target);
    const slash = target.lastIndexOf('/');
    const colon = target.lastIndexOf(':');
    const repo = colon > slash ? target.slice(0, colon) : target;
    const t = colon > slash ? target.slice(colon + 1) : 'latest';
    (await ctx.client().request('POST', `/images/${source}/tag`, { query: { repo, tag: t } })).resume();
    return 0;
  },
};

export const importCmd: CommandSpec = {
  name: 'import', usage: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]', description: 'Import the contents from a tarball to create a filesystem image', args: { min: 1, max: 2 },
  setup: (c) => {
    c.option('-c, --change <list>', 'Apply Dockerfile instruction to the created image', collect, []);
    c.option('-m, --message <string>', 'Set commit message for imported image');
    c.option('--platform <string>', 'Set platform if server is multi-platform capable');
  },
  action: async (ctx, [source, ref], o) => {
    let repo: string | undefined;
    let t: string | undefined;
    if (ref) {
      checkReference(ref);
      const slash = ref.lastIndexOf('/');
      const colon = ref.lastIndexOf(':');
      repo = colon > slash ? ref.slice(0, colon) : ref;
      t = colon > slash ? ref.slice(colon + 1) : undefined;
    }
    const isUrl = /^https?:\/\//.test(source);
    let body: NodeJS.ReadableStream | undefined;
    if (source === '-') body = process.stdin;
    else if (!isUrl) {
      const path = source.replace(/^file:\/\//, '');
      if (!existsSync(path)) throw new CliExit(1, `open ${path}: no such file or directory`);
      body = createReadStream(path);
    }
    const res = await ctx.client().request('POST', '/images/create', {
      query: { fromSrc: isUrl ? source : '-', repo, tag: t, message: o.message, changes: o.change, platform: o.platform },
      body: body as any,
      contentType: 'application/x-tar',
    });
    const msgs = await printProgress(ctx.client(), res, () => undefined);
    const last = msgs.reverse().find((m) => typeof m.status === 'string' && /^sha256:/.test(m.status));
    if (last) ctx.out(`${last.status}\n`);
    return 0;
  },
};

export const save: CommandSpec = {
  name: 'save', usage: '[OPTIONS] IMAGE [IMAGE...]', description: 'Save one or more images to a tar archive (streamed to STDOUT by default)', args: { min: 1 },
  setup: (c) => c.option('-o, --output <string>', 'Write to a file, instead of STDOUT'),
  action: async (ctx, args, o) => {
    if (!o.output && process.stdout.isTTY) throw new CliExit(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
    const res = await ctx.client().request('GET', '/images/get', { query: { names: args } });
    await pipeline(res, o.output ? createWriteStream(o.output) : process.stdout, { end: !!o.output });
    return 0;
  },
};

export const load: CommandSpec = {
  name: 'load', usage: '[OPTIONS]', description: 'Load an image from a tar archive or STDIN', args: { max: 0 },
  setup: (c) => {
    c.option('-i, --input <string>', 'Read from tar archive file, instead of STDIN');
    c.option('-q, --quiet', 'Suppress the load output');
  },
  action: async (ctx, _args, o) => {
    if (!o.input && process.stdin.isTTY) throw new UsageError('requested load from stdin, but stdin is empty');
    if (o.input && !existsSync(o.input)) throw new CliExit(1, `open ${o.input}: no such file or directory`);
    const body = o.input ? createReadStream(o.input) : process.stdin;
    const res = await ctx.client().request('POST', '/images/load', { query: { quiet: !!o.quiet }, body: body as any, contentType: 'application/x-tar' });
    await printProgress(ctx.client(), res, (s) => ctx.out(s));
    return 0;
  },
};
