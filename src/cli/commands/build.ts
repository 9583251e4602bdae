import { writeFile } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import * as tar from 'tar-stream';
import { readAll, StreamError } from '../../client/index.js';
import { CliExit } from '../cli-context.js';
import { readFile, stat } from 'node:fs/promises';
import { contextTar, type BuildContext } from '../build-context.js';
import { humanSize } from '../format/human.js';
import { checkReference, keyValues, parseRamBytes, UsageError } from '../options/parse-values.js';
import type { CommandSpec } from './define.js';

const collect = (v: string, p: string[] = []) => p.concat(v);

/** `--build-arg K=V`, or a bare `K` taking our environment's value (null when unset, as docker sends it). */
export function buildArgs(list: string[], env: NodeJS.ProcessEnv): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const a of list) {
    const eq = a.indexOf('=');
    if (eq === 0) throw new UsageError(`invalid argument "${a}" for "--build-arg" flag: invalid key/value: ${a}`);
    if (eq > 0) out[a.slice(0, eq)] = a.slice(eq + 1);
    else out[a] = env[a] ?? null;
  }
  return out;
}

/**
 * `berth build -` (stdin) or `berth build ctx.tar[.gz]`: the bytes are either
 * a tar context, plain or compressed, or a lone Dockerfile. `dockerfile` names
 * the Dockerfile inside a tar context (-f).
 */
function contextFromBytes(data: Buffer, dockerfile = 'Dockerfile'): BuildContext {
  const isTar = data.length > 262 && data.subarray(257, 262).toString() === 'ustar';
  // A compressed context goes as it came; the daemon unpacks it (gzip) or says which it can't.
  const compressed = (data[0] === 0x1f && data[1] === 0x8b) || data.subarray(0, 3).toString('latin1') === 'BZh'
    || data.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
  if (isTar || compressed) return { stream: Readable.from([data]), dockerfile };
  const pack = tar.pack();
  pack.entry({ name: 'Dockerfile', size: data.length, mode: 0o644, mtime: new Date(), uid: 0, gid: 0 }, data);
  pack.finalize();
  return { stream: pack as unknown as Readable, dockerfile: 'Dockerfile' };
}

export const build: CommandSpec = {
  name: 'build', usage: '[OPTIONS] PATH | URL | -', description: 'Build an image from a Dockerfile', args: { min: 1, max: 1 },
  setup: (c) => {
    c.option('--add-host <list>', 'Add a custom host-to-IP mapping (host:ip)', collect, []);
    c.option('--build-arg <list>', 'Set build-time variables', collect, []);
    c.option('--cache-from <strings>', 'Images to consider as cache sources', collect, []);
    c.option('-f, --file <string>', "Name of the Dockerfile (Default is 'PATH/Dockerfile')");
    c.option('--force-rm', 'Always remove intermediate containers');
    c.option('--iidfile <string>', 'Write the image ID to the file');
    c.option('--label <list>', 'Set metadata for an image', collect, []);
    c.option('--network <string>', 'Set the networking mode for the RUN instructions during build', 'default');
    c.option('--no-cache', 'Do not use cache when building the image');
    c.option('--platform <string>', 'Set platform if server is multi-platform capable');
    c.option('--pull', 'Always attempt to pull a newer version of the image');
    c.option('-q, --quiet', 'Suppress the build output and print image ID on success');
    c.option('--shm-size <bytes>', 'Size of /dev/shm');
    c.option('--rm [bool]', 'Remove intermediate containers after a successful build', true);
    c.option('-t, --tag <list>', "Name and optionally a tag in the 'name:tag' format", collect, []);
    c.option('--target <string>', 'Set the target build stage to build.');
  },
  action: async (ctx, [path], o) => {
    for (const t of o.tag as string[]) checkReference(t);
    const shmSize = o.shmSize === undefined ? undefined : parseRamBytes(o.shmSize);
    if (/^(https?|git):\/\/|^git@/.test(path)) throw new CliExit(1, 'remote build contexts are not supported; pass a directory or -');
    let context: BuildContext;
    try {
      if (path === '-') context = contextFromBytes(await readAll(process.stdin), o.file);
      else if ((await stat(path).catch(() => undefined))?.isFile()) context = contextFromBytes(await readFile(path), o.file);
      else context = await contextTar(path, o.file === '-' ? { dockerfileText: (await readAll(process.stdin)).toString() } : { dockerfile: o.file });
    } catch (e) {
      throw new CliExit(1, (e as Error).message);
    }
    // Counts the context on its way out (a 'data' listener would drain it before the upload starts).
    let sent = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _enc, cb) { sent += chunk.length; cb(null, chunk); },
      flush(cb) { if (!o.quiet) ctx.out(`Sending build context to Docker daemon ${humanSize(sent, 4).padStart(8)}\n`); cb(); },
    });
    context.stream.on('error', (e) => counted.destroy(e));
    context.stream.pipe(counted);
    const client = ctx.client();
    const res = await client.request('POST', '/build', {
      query: {
        t: o.tag, dockerfile: context.dockerfile, buildargs: JSON.stringify(buildArgs(o.buildArg, ctx.env)),
        labels: JSON.stringify(keyValues(o.label, 'label')), nocache: o.cache === false, pull: !!o.pull,
        rm: o.rm !== 'false' && o.rm !== false, forcerm: !!o.forceRm, q: !!o.quiet, target: o.target,
        networkmode: o.network, platform: o.platform, extrahosts: o.addHost.length ? o.addHost.join(',') : undefined,
        cachefrom: o.cacheFrom.length ? JSON.stringify(o.cacheFrom) : undefined, shmsize: shmSize,
      },
      body: counted,
      contentType: 'application/x-tar',
      headers: { 'X-Registry-Config': Buffer.from('{}').toString('base64') },
    });
    let imageId = '';
    try {
      for await (const m of client.jsonLines(res)) {
        if (m.aux?.ID) imageId = m.aux.ID;
        if (typeof m.stream === 'string') {
          if (o.quiet) { const id = /^sha256:[0-9a-f]{64}\s*$/.exec(m.stream); if (id) imageId = id[0].trim(); }
          else ctx.out(m.stream);
        } else if (typeof m.status === 'string' && !o.quiet) ctx.out(`${m.id ? `${m.id}: ` : ''}${m.status}\n`);
      }
    } catch (e) {
      if (!(e instanceof StreamError)) throw e;
      // Docker exits with the failing step's code when the daemon reports one.
      const code = e.code || 1;
      throw new CliExit(code, e.message);
    }
    if (o.quiet && imageId) ctx.out(`${imageId}\n`);
    if (o.iidfile && imageId) await writeFile(o.iidfile, imageId);
    return 0;
  },
};
