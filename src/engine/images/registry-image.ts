import { execFile } from 'node:child_process';
import { createReadStream, promises as fs, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tar from 'tar-stream';

/** Where berth's files go inside the image. */
const appDir = '/opt/berth';
const registryMain = 'dist/src/registry/main.js';

/**
 * The config of the built-in `registry` image, as `docker import --change`
 * lines: the seed's `docker run -d -p 5000:5000 registry` serves on :5000 and
 * keeps its data in a volume, as the Docker Hub image does.
 */
export const registryImageChanges = [
  `ENTRYPOINT ["/usr/bin/node", "${appDir}/${registryMain}"]`,
  'CMD ["serve", "--addr", ":5000", "--root", "/var/lib/registry"]',
  'VOLUME /var/lib/registry',
  'EXPOSE 5000/tcp',
];

/** Shared libraries a dynamically linked binary loads (`ldd`), as absolute paths. */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('ldd', [binary]);
  const libs: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]);
  }
  return libs;
}

/** The compiled modules the registry's entry point loads, and the npm packages they import. */
async function registryModules(berthRoot: string): Promise<{ files: string[]; packages: string[] }> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const walk = async (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = await fs.readFile(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) await walk(path.resolve(path.dirname(file), spec));
      else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
    }
  };
  await walk(path.join(berthRoot, registryMain));
  return { files: [...seen].map((f) => path.relative(berthRoot, f)), packages: [...packages] };
}

/** A package and, recursively, the packages it depends on (each once). */
async function packageClosure(nodeModules: string, names: string[]): Promise<string[]> {
  const out = new Set<string>();
  const visit = async (name: string) => {
    if (out.has(name)) return;
    out.add(name);
    const pkg = JSON.parse(await fs.readFile(path.join(nodeModules, name, 'package.json'), 'utf8'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) await visit(dep);
  };
  for (const n of names) await visit(n);
  return [...out].sort();
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listTree(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/**
 * The root filesystem of the built-in `registry` image as a tar: the host's
 * node binary with the shared libraries it links (from `ldd`), the compiled
 * registry modules under /opt/berth with the npm packages they import, and an
 * empty /var/lib/registry. Every mtime is the node binary's and entries are
 * sorted, so the same build gives the same image ID.
 *
 *   const rootfs = await registryImageRootfs()     // then import with registryImageChanges
 */
export async function registryImageRootfs(opts: { berthRoot?: string; node?: string } = {}): Promise<Readable> {
  const berthRoot = opts.berthRoot ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
  const node = realpathSync(opts.node ?? process.execPath);
  const mtime = new Date(Math.floor((await fs.stat(node)).mtimeMs / 1000) * 1000);
  const files = new Map<string, string>(); // path in image → file on host
  files.set('usr/bin/node', node);
  for (const lib of await sharedLibraries(node)) files.set(lib.slice(1), realpathSync(lib));
  const { files: modules, packages } = await registryModules(berthRoot);
  for (const m of modules) files.set(`${appDir.slice(1)}/${m}`, path.join(berthRoot, m));
  const nodeModules = path.join(berthRoot, 'node_modules');
  for (const pkg of await packageClosure(nodeModules, packages)) {
    const root = realpathSync(path.join(nodeModules, pkg));
    for (const f of await listTree(root)) files.set(`${appDir.slice(1)}/node_modules/${pkg}/${path.relative(root, f)}`, f);
  }
  const dirs = new Set<string>(['tmp', 'var/lib/registry', 'etc']);
  for (const p of files.keys()) for (let d = path.posix.dirname(p); d !== '.'; d = path.posix.dirname(d)) dirs.add(d);
  const pkgJson = Buffer.from(JSON.stringify({ name: 'berth-registry', private: true, type: 'module' }) + '\n');
  const passwd = Buffer.from('root:x:0:0:root:/root:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  const pack = tar.pack();
  (async () => {
    const entry = (h: Partial<tar.Header> & { name: string }, body?: Buffer) => new Promise<void>((resolve, reject) => pack.entry({ uid: 0, gid: 0, mtime, ...h }, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
    for (const d of [...dirs].sort()) await entry({ name: `${d}/`, type: 'directory', mode: d === 'tmp' ? 0o1777 : 0o755 });
    await entry({ name: 'etc/passwd', type: 'file', mode: 0o644, size: passwd.length }, passwd);
    await entry({ name: `${appDir.slice(1)}/package.json`, type: 'file', mode: 0o644, size: pkgJson.length }, pkgJson);
    for (const [name, src] of [...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const st = await fs.stat(src);
      await new Promise<void>((resolve, reject) => {
        const w = pack.entry({ name, type: 'file', mode: st.mode & 0o777, size: st.size, uid: 0, gid: 0, mtime }, (err) => (err ? reject(err) : resolve()));
        const r = createReadStream(src);
        r.on('error', reject);
        r.pipe(w as unknown as NodeJS.WritableStream);
      });
    }
    pack.finalize();
  })().catch((err) => pack.destroy(err));
  // A node stream, not tar-stream's streamx one: HTTP clients pipe it as a body.
  const out = new PassThrough();
  pack.on('error', (err: Error) => out.destroy(err));
  (pack as unknown as Readable).pipe(out);
  return out;
}
