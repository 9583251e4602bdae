import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';
import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { log } from '../../common/log.js';
import { importRootfs } from './import.js';
import type { ImageService } from './service.js';
import type { ImageRecord } from './types.js';

const busyboxPath = '/bin/busybox';
const defaultPath = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Applet names of the host's static busybox (the only place busybox is run). */
async function busyboxApplets(binary: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(binary, ['--list'], { maxBuffer: 1 << 20 });
  return stdout.split('\n').map((s) => s.trim()).filter((s) => /^[A-Za-z0-9_.[-]+$/.test(s) && s !== 'busybox').sort();
}

/**
 * The root filesystem of the built-in `busybox` image as a tar: the static
 * binary in /bin, one symlink per applet, minimal /etc/passwd and /etc/group,
 * the usual empty directories. Entries are sorted and every mtime is the
 * binary's own, so the same busybox package yields the same bytes (and image
 * ID) on every machine.
 */
export async function busyboxRootfs(binary = busyboxPath): Promise<{ tar: Readable; mtime: Date }> {
  const [st, body, applets] = await Promise.all([fs.stat(binary), fs.readFile(binary), busyboxApplets(binary)]);
  const mtime = new Date(Math.floor(st.mtimeMs / 1000) * 1000);
  const entries: Array<{ h: any; body?: Buffer }> = [];
  const dir = (name: string, mode = 0o755) => entries.push({ h: { name: `${name}/`, type: 'directory', mode, uid: 0, gid: 0, mtime } });
  const file = (name: string, data: Buffer, mode = 0o644) => entries.push({ h: { name, type: 'file', mode, uid: 0, gid: 0, mtime, size: data.length }, body: data });
  for (const d of ['bin', 'dev', 'etc', 'home', 'proc', 'sys', 'usr', 'var']) dir(d);
  dir('root', 0o700);
  dir('tmp', 0o1777);
  file('bin/busybox', body, 0o755);
  for (const a of applets) entries.push({ h: { name: `bin/${a}`, type: 'symlink', linkname: 'busybox', mode: 0o777, uid: 0, gid: 0, mtime } });
  file('etc/group', Buffer.from('root:x:0:\nnobody:x:65534:\n'));
  file('etc/passwd', Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n'));
  entries.sort((a, b) => (a.h.name < b.h.name ? -1 : a.h.name > b.h.name ? 1 : 0));
  const pack = tar.pack();
  (async () => {
    for (const e of entries) await new Promise<void>((resolve, reject) => pack.entry(e.h, e.body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
    pack.finalize();
  })().catch((err) => pack.destroy(err));
  return { tar: pack as unknown as Readable, mtime };
}

/**
 * Makes sure the built-in images exist (today `busybox:latest`), creating them
 * from Debian's busybox-static. Cheap when they already do: the daemon calls it
 * on every start. Logs and carries on when busybox-static is not installed.
 */
export async function ensureBuiltinImages(images: ImageService, opts: { busybox?: string } = {}): Promise<ImageRecord | undefined> {
  try {
    return images.resolve('busybox:latest');
  } catch { /* build it */ }
  const binary = opts.busybox ?? busyboxPath;
  if (!(await fs.access(binary).then(() => true, () => false))) {
    log.warn('images', `${binary} not found (install busybox-static): no built-in busybox image`);
    return undefined;
  }
  const { tar: rootfs, mtime } = await busyboxRootfs(binary);
  return importRootfs(images, rootfs, {
    repoTag: 'busybox:latest',
    changes: [`ENV ${defaultPath}`, 'CMD ["sh"]'],
    message: 'busybox-static from the host (berth built-in)',
    created: mtime.toISOString().replace('.000Z', 'Z'),
  });
}
