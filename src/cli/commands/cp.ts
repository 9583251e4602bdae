import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { DaemonError, type EngineClient } from '../../client/index.js';
import type { BodySink } from '../../client/raw-body.js';
import { CliExit, type CliContext } from '../cli-context.js';
import { splitPathDirEntry, writeHostPath } from '../copy/host-archive.js';
import { TarExtractor } from '../copy/tar-extract.js';
import { humanSize } from '../format/human.js';
import type { CommandSpec } from './define.js';

const enc = encodeURIComponent;

/** The stat the daemon sends in `X-Docker-Container-Path-Stat` (Go's os.FileMode bits). */
interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }
// Go's os.FileMode bits: 31 dir, 27 symlink; 26 device, 25 pipe, 24 socket, 21 char device, 19 irregular.
const bit = (mode: number, n: number) => Math.floor(mode / 2 ** n) % 2 === 1;
const isDir = (s: PathStat) => bit(s.mode, 31);
const isSymlink = (s: PathStat) => bit(s.mode, 27);
const isRegular = (s: PathStat) => ![31, 27, 26, 25, 24, 21, 19].some((n) => bit(s.mode, n));

export const cp: CommandSpec = {
  name: 'cp',
  usage: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  description: 'Copy files/folders between a container and the local filesystem\n\nUse \'-\' as the source to read a tar archive from stdin\nand extract it to a directory destination in a container.\nUse \'-\' as the destination to stream a tar archive of a\ncontainer source to stdout.',
  args: { min: 2, max: 2 },
  setup: (c) => {
    c.option('-a, --archive', 'Archive mode (copy all uid/gid information)');
    c.option('-L, --follow-link', 'Always follow symbol link in SRC_PATH');
    c.option('-q, --quiet', 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached');
  },
  action: async (ctx, [src, dst], o) => {
    const from = splitCpArg(src);
    const to = splitCpArg(dst);
    if (from.container && to.container) throw new CliExit(1, 'copying between containers is not supported');
    if (!from.container && !to.container) throw new CliExit(1, 'must specify at least one container source');
    const opts = { archive: !!o.archive, followLink: !!o.followLink, progress: !o.quiet && !!process.stderr.isTTY };
    if (from.container) await copyFromContainer(ctx, from.container, from.path, to.path, opts);
    else await copyToContainer(ctx, src, to.container!, to.path, opts);
    return 0;
  },
};

interface CopyOpts { archive: boolean; followLink: boolean; progress: boolean }

/** Docker's rule: a path starting with `/` or `.` is local even with a colon in it. */
export function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const i = arg.indexOf(':');
  if (i <= 0) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

async function statInContainer(client: EngineClient, ctr: string, p: string): Promise<PathStat | undefined> {
  try {
    const res = await client.request('HEAD', `/containers/${enc(ctr)}/archive`, { query: { path: p } });
    res.resume();
    return decodeStat(res.headers['x-docker-container-path-stat']);
  } catch (e) {
    if (e instanceof DaemonError && e.status === 404) return undefined;
    throw e;
  }
}

function decodeStat(h: string | string[] | undefined): PathStat {
  const v = Array.isArray(h) ? h[0] : h;
  if (!v) throw new Error('no X-Docker-Container-Path-Stat header in the daemon\'s answer');
  return JSON.parse(Buffer.from(v, 'base64').toString('utf8'));
}

/** A link target as an absolute path in the container, relative ones taken from the link's directory. */
function linkTargetPath(linkPath: string, target: string): string {
  return path.posix.isAbsolute(target) ? target : path.posix.join(splitPathDirEntry(linkPath).dir, target);
}

async function copyFromContainer(ctx: CliContext, ctr: string, srcPath: string, dstPath: string, o: CopyOpts): Promise<void> {
  const client = ctx.client();
  let rebaseName: string | undefined;
  if (o.followLink) {
    const st = await statInContainer(client, ctr, srcPath);
    if (st && isSymlink(st)) {
      rebaseName = splitPathDirEntry(srcPath).base;
      srcPath = linkTargetPath(srcPath, st.linkTarget);
    }
  }
  if (dstPath === '-') {
    const res = await client.request('GET', `/containers/${enc(ctr)}/archive`, { query: { path: srcPath } });
    await pipeline(res, process.stdout, { end: false });
    return;
  }
  // The host side is looked at now, but its errors are raised once the daemon
  // has answered for the source, as Docker orders them.
  // Docker's CopyInfoDestinationPath follows a symlink at the destination.
  const dstStat = await fs.stat(dstPath).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  const parentIsDir = dstStat?.isDirectory() || !!(await fs.stat(splitPathDirEntry(dstPath).dir).catch(() => undefined))?.isDirectory();
  let extractor: TarExtractor | undefined;
  let bytes = 0;
  try {
    await client.download('GET', `/containers/${enc(ctr)}/archive`, { query: { path: srcPath } }, (head) => {
      const stat = decodeStat(head.headers['x-docker-container-path-stat']);
      const srcBase = splitPathDirEntry(srcPath).base;
      let dir: string;
      let rename: { from: string; to: string } | undefined;
      if (dstStat?.isDirectory()) {
        dir = dstPath;
        if (rebaseName) rename = { from: srcBase, to: rebaseName };
      } else {
        if (dstStat && isDir(stat)) throw new CliExit(1, `cannot copy directory`);
        if (!dstStat && !isDir(stat) && /\/$|\/\.$/.test(dstPath)) throw new CliExit(1, `destination directory ${dstPath} does not exist`);
        const d = splitPathDirEntry(dstPath);
        dir = d.dir;
        rename = { from: srcBase, to: d.base };
        if (!parentIsDir) throw new CliExit(1, `destination directory ${dir} does not exist`);
      }
      extractor = new TarExtractor(dir, { preserveOwner: o.archive, rename });
    }, (chunk) => {
      bytes += chunk.length;
      extractor!.push(chunk);
    });
    extractor!.finish();
  } catch (e) {
    extractor?.abort();
    throw e;
  }
  if (o.progress) process.stderr.write(`Successfully copied ${humanSize(bytes)} to ${dstPath}\n`);
}

async function copyToContainer(ctx: CliContext, srcPath: string, ctr: string, dstPath: string, o: CopyOpts): Promise<void> {
  const client = ctx.client();
  // Errors here are left to the PUT, which reports them in the daemon's words.
  let dstStat = await statInContainer(client, ctr, dstPath).catch(() => undefined);
  let resolved = dstPath;
  if (dstStat && isSymlink(dstStat)) {
    resolved = linkTargetPath(dstPath, dstStat.linkTarget);
    dstStat = await statInContainer(client, ctr, resolved).catch(() => undefined);
  }
  if (dstStat && !isDir(dstStat) && !isRegular(dstStat)) {
    throw new CliExit(1, `destination "${ctr}:${dstPath}" must be a directory or a regular file`);
  }
  if (srcPath === '-') {
    if (!dstStat || !isDir(dstStat)) throw new CliExit(1, `destination "${ctr}:${dstPath}" must be a directory`);
    await putArchive(client, ctr, resolved, (sink) => pipeToSink(process.stdin, sink), o);
    return;
  }
  const local = o.followLink ? await fs.stat(srcPath).catch(() => undefined) : await fs.lstat(srcPath).catch(() => undefined);
  if (!local) throw new CliExit(1, `lstat ${path.resolve(srcPath)}: no such file or directory`);
  let packPath = srcPath;
  let rebase: string | undefined;
  if (o.followLink && (await fs.lstat(srcPath)).isSymbolicLink()) {
    rebase = splitPathDirEntry(srcPath).base;
    packPath = await fs.realpath(srcPath);
  }
  let putPath = resolved;
  if (!dstStat || !isDir(dstStat)) {
    if (dstStat && local.isDirectory()) throw new CliExit(1, 'cannot copy directory');
    if (!dstStat && !local.isDirectory() && /\/$|\/\.$/.test(dstPath)) throw new CliExit(1, 'no such directory');
    const d = splitPathDirEntry(resolved);
    putPath = d.dir;
    rebase = d.base;
  }
  let bytes = 0;
  await putArchive(client, ctr, putPath, async (sink) => { bytes = await writeHostPath(packPath, sink, { rebaseName: rebase, reuseBuffers: true }); }, o);
  if (o.progress) process.stderr.write(`Successfully copied ${humanSize(bytes)} to ${ctr}:${dstPath}\n`);
}

/** `PUT /containers/{id}/archive` with the tar that `writeBody` writes (see EngineClient.upload). */
async function putArchive(client: EngineClient, ctr: string, dir: string, writeBody: (sink: BodySink) => Promise<unknown>, o: CopyOpts): Promise<void> {
  await client.upload('PUT', `/containers/${enc(ctr)}/archive`, {
    query: { path: dir, noOverwriteDirNonDir: true, copyUIDGID: o.archive || undefined }, contentType: 'application/x-tar',
  }, writeBody);
}

/** Copies a stream (stdin's tar for `cp -`) into the request; its chunks are fresh buffers, so only the socket's fill level is waited on. */
async function pipeToSink(input: Readable, sink: BodySink): Promise<void> {
  let failed: Error | undefined;
  let last: Promise<void> = Promise.resolve();
  for await (const chunk of input) {
    if (failed) throw failed;
    last = new Promise((resolve) => sink.write(chunk as Buffer, (err) => { if (err) failed ??= err; resolve(); }));
    if (sink.writableNeedDrain) await last;
  }
  await last;
  if (failed) throw failed;
}
