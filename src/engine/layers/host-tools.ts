import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidArgument } from '../../common/errors.js';
import { parseListing, type ListedMember } from './tar-listing.js';

/**
 * The only place the storage services run host programs: GNU tar (it can set
 * xattrs, make device nodes and restore ownership, which Node cannot), mount,
 * umount, xz, cp, getfattr/setfattr (Node cannot read xattrs), sync, the
 * decompressors (unpigz or gzip, zstd, xz) and openssl (its
 * sha256 uses the CPU's SHA instructions; Node's is ~4x slower here; it also
 * takes the diff ID of a layer unpacked without Node seeing its bytes).
 * Each function names what it does; callers never build argv.
 */

interface RunResult { stdout: string; stderr: string }

function run(cmd: string, args: string[], opts: { cwd?: string; input?: Readable } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: [opts.input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => { if (stdout.length < 1 << 20) stdout += d; });
    child.stderr!.on('data', (d) => { if (stderr.length < 1 << 16) stderr += d; });
    if (opts.input) {
      opts.input.on('error', (err) => { child.kill(); reject(err); });
      child.stdin!.on('error', () => { /* reported through the exit status */ });
      opts.input.pipe(child.stdin!);
    }
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? code}): ${stderr.trim() || stdout.trim()}`));
    });
  });
}

const tarExtractFlags = ['--extract', '--xattrs', "--xattrs-include=*", '--numeric-owner', '--same-owner', '--same-permissions', '--no-overwrite-dir'];

/**
 * Unpacks a tar file (plain, gzip, xz or zstd: GNU tar detects it) into `dir`
 * with owners, modes, mtimes, xattrs, hardlinks and device nodes as recorded.
 * The archive must have been checked by the caller (see tar-check.ts): GNU tar
 * is trusted to write, not to judge.
 */
export async function extractTarFile(archive: string, dir: string): Promise<void> {
  await run('tar', [...tarExtractFlags, '--file', archive, '--directory', dir]);
}

/** As extractTarFile, for an uncompressed tar arriving on a stream. */
export async function extractTarStream(input: Readable, dir: string): Promise<void> {
  await run('tar', [...tarExtractFlags, '--file', '-', '--directory', dir], { input });
}

/**
 * Archives the contents of `dir` as a pax tar on stdout (names relative to
 * `dir`, sorted, numeric owners, xattrs). The caller consumes the stream.
 */
export function createTarStream(dir: string): { stream: Readable; done: Promise<void> } {
  const child = spawn('tar', ['--create', '--format=pax', '--xattrs', "--xattrs-include=*", '--numeric-owner', '--sort=name',
    '--pax-option=delete=atime,delete=ctime', '--directory', dir, '--file', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar --create ${dir} failed (${code}): ${stderr.trim()}`))));
  });
  return { stream: child.stdout, done };
}

/**
 * Archives the named top-level entries of `dir` (and everything under them)
 * as a pax tar on stdout: names relative to `dir` without a `./` prefix,
 * directory contents sorted, numeric owners, every xattr (binary values
 * included). For layers: the caller filters overlay's own xattrs.
 */
export function createTarOfEntries(dir: string, names: string[]): { stream: Readable; done: Promise<void> } {
  const child = spawn('tar', ['--create', '--format=pax', '--xattrs', '--xattrs-include=*', '--numeric-owner', '--sort=name',
    '--pax-option=delete=atime,delete=ctime', '--directory', dir, '--null', '--verbatim-files-from', '--files-from=-', '--file', '-'],
  { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdin.on('error', () => { /* reported through the exit status */ });
  child.stdin.end(Buffer.concat(names.map((n) => Buffer.from(n + '\0'))));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar --create ${dir} failed (${code}): ${stderr.trim()}`))));
  });
  return { stream: child.stdout, done };
}

/**
 * Copies the named top-level entries of an overlay upper dir into `dst`
 * tar-to-tar through a kernel pipe (no bytes through Node): owners, modes,
 * times, hardlinks, 0/0 whiteout devices and `trusted.overlay.opaque` as
 * they are; overlay's other bookkeeping xattrs (origin, impure, …) and the
 * `exclude`d relative paths stay out. The result is what unpacking the
 * layerFromUpper tar of the same dir gives, overlay-shaped.
 */
export async function copyUpperTree(src: string, dst: string, names: string[], exclude: Iterable<string>): Promise<void> {
  const excludes = [...exclude].map((p) => `--exclude=${p}`);
  const pack = spawn('tar', ['--create', '--format=pax', '--xattrs', '--xattrs-include=*', '--numeric-owner', '--sort=name',
    '--directory', src, '--anchored', '--no-wildcards', ...excludes, '--null', '--verbatim-files-from', '--files-from=-', '--file', '-'],
  { stdio: ['pipe', 'pipe', 'pipe'] });
  const unpack = spawn('tar', [...tarExtractFlags.filter((f) => !f.startsWith('--xattrs-include')), '--xattrs-include=*',
    '--xattrs-exclude=trusted.overlay.[!o]*', '--xattrs-exclude=trusted.overlay.o[!p]*', '--file', '-', '--directory', dst],
  { stdio: [pack.stdout, 'ignore', 'pipe'] });
  // The pipe now belongs to the two tars; our read end would keep it open if the reader died.
  pack.stdout.destroy();
  pack.stdin.on('error', () => { /* reported through the exit status */ });
  pack.stdin.end(Buffer.concat(names.map((n) => Buffer.from(n + '\0'))));
  const status = (child: ReturnType<typeof spawn>, what: string) => new Promise<void>((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${what} failed (${code}): ${stderr.trim()}`))));
  });
  const results = await Promise.allSettled([status(pack, `tar --create ${src}`), status(unpack, `tar --extract ${dst}`)]);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

/**
 * Writes the OCI layer tar of the named top-level entries of an upper dir
 * straight to `file` (no bytes through Node), then syncs it to disk while
 * hashing it, and returns its `sha256:` digest. Only right for an upper dir
 * without whiteout devices or opaque dirs: those need header rewriting
 * (UpperTarFilter). Overlay's own xattrs stay out; `exclude`d relative paths
 * too. Same member names, order and pax records as createTarOfEntries.
 * `bigRecords` trades up to 64 KiB of end padding for speed. One shell runs
 * tar, openssl and sync: each spawn from the daemon costs a fork of it
 * (15–40 ms of its main thread here), a spawn from sh almost nothing.
 */
export async function writeLayerTarOfEntries(dir: string, names: string[], exclude: Iterable<string>, file: string, opts: { bigRecords?: boolean } = {}): Promise<string> {
  const excludes = [...exclude].map((p) => `--exclude=${p}`);
  // 64 KiB records halve tar's time on big layers; the archive is padded to a record, so small layers keep 10 KiB.
  const blocking = opts.bigRecords ? ['--blocking-factor=128'] : [];
  const tarArgs = ['--create', ...blocking, '--format=pax', '--xattrs', '--xattrs-include=*', '--xattrs-exclude=trusted.overlay.*',
    '--numeric-owner', '--sort=name', '--pax-option=delete=atime,delete=ctime', '--directory', dir, '--anchored', '--no-wildcards',
    ...excludes, '--null', '--verbatim-files-from', '--files-from=-', '--file', file];
  const child = spawn('sh', ['-c', `tar "$@" || exit $?; ${hashWhileSyncing}`, 'sh', ...tarArgs], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, F: file } });
  child.stdin.on('error', () => { /* reported through the exit status */ });
  child.stdin.end(Buffer.concat(names.map((n) => Buffer.from(n + '\0'))));
  return digestFrom(child, `tar --create ${dir}`);
}

/** `sha256:<hex>` of a file by openssl (SHA instructions), while `sync --data` writes it to disk. */
export async function sha256OfFileSynced(file: string): Promise<string> {
  const child = spawn('sh', ['-c', hashWhileSyncing], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, F: file } });
  return digestFrom(child, `openssl dgst ${file}`);
}

/** Shell text: hash "$F" (page cache) and fdatasync it side by side; print the digest; fail if either fails. */
const hashWhileSyncing = 'sync --data -- "$F" & s=$!; openssl dgst -sha256 -r -- "$F" || exit $?; wait $s';

async function digestFrom(child: ReturnType<typeof spawn>, what: string): Promise<string> {
  let stdout = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  await exitStatus(child, what);
  const hex = stdout.slice(0, 64);
  if (!/^[a-f0-9]{64}$/.test(hex)) throw new Error(`${what}: unexpected digest output ${JSON.stringify(stdout.slice(0, 100))}`);
  return `sha256:${hex}`;
}

/**
 * Copies the named top-level entries of `src` into the existing dir `dst`
 * with everything (owners, modes, times, hardlinks among them, devices,
 * every xattr) by `cp -a`: the kernel copies file bodies, no pipe.
 */
export async function copyEntriesWhole(src: string, dst: string, names: string[]): Promise<void> {
  if (names.length === 0) return;
  await run('cp', ['-a', '--reflink=auto', `--target-directory=${dst}`, '--', ...names.map((n) => `${src}/${n}`)]);
}

/**
 * The `trusted.overlay.*` xattrs (names only) of every entry under `dir`, by
 * relative path; undefined when getfattr (Debian `attr`) is not installed.
 */
export async function listOverlayXattrs(dir: string): Promise<Map<string, string[]> | undefined> {
  const child = spawn('getfattr', ['--recursive', '--physical', '--no-dereference', '--absolute-names', '--match=^trusted\\.overlay\\.', '--', dir],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => chunks.push(d));
  try {
    await exitStatus(child, `getfattr ${dir}`);
  } catch (err: any) {
    if (err?.code === 'ENOENT') return undefined;
    throw err;
  }
  const found = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
    if (line.startsWith('# file: ')) {
      const abs = unescapeOctal(line.slice('# file: '.length));
      const rel = abs === dir ? '' : abs.startsWith(dir + '/') ? abs.slice(dir.length + 1) : undefined;
      if (rel === undefined) throw new Error(`getfattr ${dir}: unexpected path ${JSON.stringify(abs)}`);
      current = [];
      found.set(rel, current);
    } else if (line && current) {
      const eq = line.indexOf('=');
      current.push(eq < 0 ? line : line.slice(0, eq));
    }
  }
  return found;
}

/** Removes the named xattrs from the given entries of `dir` (never following symlinks). */
export async function removeXattrs(dir: string, entries: Map<string, string[]>): Promise<void> {
  const byName = new Map<string, string[]>();
  for (const [rel, names] of entries) {
    for (const n of names) {
      if (!byName.has(n)) byName.set(n, []);
      byName.get(n)!.push(`${dir}/${rel}`);
    }
  }
  // In batches, so a big copy-up never hits the argument size limit.
  for (const [name, files] of byName) {
    for (let i = 0; i < files.length; i += 1000) await run('setfattr', ['--no-dereference', `--remove=${name}`, '--', ...files.slice(i, i + 1000)]);
  }
}

function exitStatus(child: ReturnType<typeof spawn>, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (d) => { if (stderr.length < 1 << 16) stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${what} failed (${code}): ${stderr.trim()}`))));
  });
}

/** How a layer blob is compressed, as detectCompression names it (bzip2 is refused earlier). */
export type LayerCompression = 'none' | 'gzip' | 'zstd' | 'xz';

// unpigz inflates with zlib and checks the CRC on another thread: about twice gzip's speed.
const decompressors: Record<Exclude<LayerCompression, 'none'>, () => string> = {
  gzip: () => (onPath('unpigz') ? 'unpigz' : 'gzip'),
  zstd: () => 'zstd',
  xz: () => 'xz',
};

/**
 * GNU tar reading a layer on stdin, listing each member (`-vv`) for the
 * caller's checks and whiteouts. 1 MiB reads (the default is 10 KiB): the
 * writer on the other end of the pipe is woken a hundred times less; tar
 * alone unpacked 200 MiB in 160 ms instead of 300. --read-full-records keeps
 * short pipe reads from ending a record.
 */
const tarListFlags = [...tarExtractFlags, '--blocking-factor=2048', '--read-full-records', '-vv', '--quoting-style=c', '--file', '-'];


// One bash, started once, runs the unpack jobs of stored compressed blobs:
// a spawn from the daemon forks all of it (15-40 ms of its main thread each
// here, ten per 10-layer pull), a fork of this small shell costs it nothing.
// Jobs come NUL-separated on stdin (id, decompressor or "none", hash 0/1,
// blob, dir, job dir); each is decompressed into tar (a plain one read by tar
// itself) and, when asked (the caller could
// not take the diff ID itself), decompressed again side by side into openssl
// (0.85 s for the bench's ten layers against 1.64 s through tee and a FIFO:
// each extra pipe hop costs more here than inflating again).
// Tar's listing, stderr and the digest go to files in the job dir; one line
// "<id> <decompressor> <tar> <openssl>" exit statuses on stdout says the job
// is over.
const helperScript = `
while IFS= read -r -d '' id && IFS= read -r -d '' dec && IFS= read -r -d '' hash && IFS= read -r -d '' src && IFS= read -r -d '' dir && IFS= read -r -d '' out; do
  (
    hasher=
    if [ "$hash" = 1 ]; then
      "$dec" -d -c < "$src" 2>>"$out/err" | openssl dgst -sha256 -r > "$out/hash" 2>>"$out/err" &
      hasher=$!
    fi
    if [ "$dec" = none ]; then
      tar "$@" --directory "$dir" < "$src" > "$out/list" 2>>"$out/err"
      st=(0 $?)
    else
      "$dec" -d -c < "$src" 2>>"$out/err" | tar "$@" --directory "$dir" > "$out/list" 2>>"$out/err"
      st=("\${PIPESTATUS[@]}")
    fi
    hs=0
    if [ -n "$hasher" ]; then wait "$hasher"; hs=$?; fi
    echo "$id \${st[0]} \${st[1]} $hs"
  ) < /dev/null &
done
`;

/** The running helper shell and the jobs waiting for its word. */
class UnpackHelper {
  private child: ChildProcess | undefined;
  private readonly waiting = new Map<number, { resolve: (status: string) => void; reject: (err: Error) => void }>();
  private nextId = 1;
  private pendingOutput = '';

  /** Runs one job; resolves with its status fields once its processes exited. */
  run(dec: string, hash: boolean, src: string, dir: string, out: string): Promise<string> {
    const child = this.child ?? this.start();
    const id = this.nextId++;
    return new Promise<string>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.hold(true);
      child.stdin!.write([String(id), dec, hash ? '1' : '0', src, dir, out].map((f) => `${f}\0`).join(''));
    });
  }

  private start(): ChildProcess {
    const child = spawn('bash', ['-c', helperScript, 'berth-unpack-helper', ...tarListFlags], { stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, LC_ALL: 'C' } });
    this.child = child;
    child.stdin!.on('error', () => { /* reported through exit */ });
    child.stdout!.setEncoding('latin1');
    child.stdout!.on('data', (d: string) => {
      this.pendingOutput += d;
      let nl;
      while ((nl = this.pendingOutput.indexOf('\n')) >= 0) {
        const line = this.pendingOutput.slice(0, nl);
        this.pendingOutput = this.pendingOutput.slice(nl + 1);
        const sp = line.indexOf(' ');
        const job = this.waiting.get(Number(line.slice(0, sp)));
        if (!job) continue;
        this.waiting.delete(Number(line.slice(0, sp)));
        job.resolve(line.slice(sp + 1));
      }
      this.hold(this.waiting.size > 0);
    });
    const gone = (err: Error) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.pendingOutput = '';
      for (const job of this.waiting.values()) job.reject(err);
      this.waiting.clear();
    };
    child.once('error', gone);
    child.once('exit', (code, signal) => gone(new Error(`the unpack helper shell exited (${signal ?? code})`)));
    // It must not keep the daemon (or a test) alive while it has no job.
    child.unref();
    return child;
  }

  /** Keeps the event loop alive only while jobs wait for the helper. */
  private hold(busy: boolean): void {
    const out = this.child?.stdout as unknown as { ref(): void; unref(): void } | undefined;
    const inp = this.child?.stdin as unknown as { ref(): void; unref(): void } | undefined;
    for (const s of [out, inp]) if (s) { if (busy) s.ref(); else s.unref(); }
  }
}

const unpackHelper = new UnpackHelper();

/**
 * Unpacks a layer blob (plain, gzip, zstd or xz tar), open as `blob` (a
 * read-only file descriptor on its verified bytes; the caller closes it
 * after), into the empty directory `dir` with host programs only. Resolves
 * with the members in the order tar extracted them and, for a compressed
 * blob, the sha256 of the tar inside (its diff ID) unless `diffId: false`
 * (the caller took it: GunzipDigest); a plain tar's is its digest. Rejects
 * with InvalidArgument when the blob does not decompress or tar refused a
 * member (GNU tar skips `..` members, strips leading `/`, and defers
 * symlinks pointing outside so nothing is written through them). Node sees
 * none of the blob's bytes: writing the tar into tar's pipe from the daemon
 * cost its main thread more than the download itself. The helper shell reads
 * the blob through /proc/<daemon>/fd/<blob>, so it may be renamed meanwhile.
 *
 *   const fh = await blob.open();
 *   const { members, tarDigest } = await extractLayerFile(fh.fd, sn.dir(key), 'gzip').finally(() => fh.close());
 */
export async function extractLayerFile(blob: number, dir: string, compression: LayerCompression, opts: { diffId?: boolean } = {}): Promise<{ members: ListedMember[]; tarDigest?: string }> {
  // A plain tar is its own diff ID: the content store hashed it.
  const hash = opts.diffId !== false && compression !== 'none';
  const dec = compression === 'none' ? 'none' : decompressors[compression]();
  const needs = ['bash', 'tar', ...(compression === 'none' ? [] : [dec]), ...(hash ? ['openssl'] : [])];
  for (const p of needs) if (!onPath(p)) throw new Error(`${p} is not installed; it is needed to unpack ${compression} layers`);
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-unpack-'));
  try {
    let status: string | undefined;
    let err: Error | undefined;
    try {
      status = await unpackHelper.run(dec, hash, `/proc/${process.pid}/fd/${blob}`, dir, out);
    } catch (e) {
      err = e as Error;
    }
    const read = (name: string) => fs.readFile(path.join(out, name), 'latin1').catch(() => '');
    const [hashLine, listing, stderr] = await Promise.all([read('hash'), read('list'), read('err').then((e) => e.slice(0, 1 << 16))]);
    if (err) throw err;
    const why = () => stderr.trim() || `exit statuses ${status}`;
    const [decStatus, tarStatus, hashStatus] = (status ?? '').split(' ').map(Number);
    if (decStatus !== 0) throw new InvalidArgument(`invalid archive: ${dec}: ${why()}`);
    if (tarStatus !== 0) throw new InvalidArgument(`invalid tar archive: ${why()}`);
    const members = parseListing(listing);
    if (!hash) return { members };
    const hex = /^([a-f0-9]{64}) /.exec(hashLine)?.[1];
    if (hashStatus !== 0 || !hex) throw new Error(`hashing the layer's tar failed: ${why()}`);
    return { members, tarDigest: `sha256:${hex}` };
  } finally {
    await fs.rm(out, { recursive: true, force: true });
  }
}


const programs = new Map<string, boolean>();
/** True when `name` is an executable on PATH (looked up once). */
function onPath(name: string): boolean {
  let found = programs.get(name);
  if (found === undefined) {
    found = (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => d && existsSync(path.join(d, name)));
    programs.set(name, found);
  }
  return found;
}

/** Decompresses xz/lzma (Node has no xz codec); returns the plain stream. */
export function decompressXz(input: Readable): Readable {
  const child = spawn('xz', ['--decompress', '--stdout'], { stdio: ['pipe', 'pipe', 'ignore'] });
  child.stdin.on('error', () => { /* surfaces as a truncated stream */ });
  input.pipe(child.stdin);
  child.on('close', (code) => {
    if (code !== 0) child.stdout.destroy(new Error(`xz: invalid or truncated compressed data (exit ${code})`));
  });
  return child.stdout;
}

/**
 * Mounts an overlay. `lowerdirs` may be relative to `cwd` (short link names
 * keep long chains within the one-page limit on mount options).
 */
export async function mountOverlay(target: string, opts: { lowerdirs: string[]; upperdir?: string; workdir?: string; cwd: string }): Promise<void> {
  let o = `lowerdir=${opts.lowerdirs.join(':')}`;
  if (opts.upperdir) o += `,upperdir=${opts.upperdir},workdir=${opts.workdir}`;
  await run('mount', ['-t', 'overlay', 'overlay', '-o', o, target], { cwd: opts.cwd });
}

/** A read-only bind mount (a view of a single layer needs no overlay). */
export async function mountBindReadonly(source: string, target: string): Promise<void> {
  await run('mount', ['--bind', source, target]);
  await run('mount', ['-o', 'remount,bind,ro', target]);
}

/** Unmounts `target` if something is mounted there; lazily if it is busy. */
export async function unmount(target: string): Promise<void> {
  if (!(await isMountPoint(target))) return;
  try {
    await run('umount', [target]);
  } catch {
    await run('umount', ['--lazy', target]);
  }
}

/** True when `target` is a mount point in this mount namespace. */
export async function isMountPoint(target: string): Promise<boolean> {
  const info = await fs.readFile('/proc/self/mountinfo', 'utf8');
  const real = await fs.realpath(target).catch(() => target);
  return info.split('\n').some((line) => {
    const mp = line.split(' ')[4];
    return mp !== undefined && unescapeMountPath(mp) === real;
  });
}

function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o) => String.fromCharCode(parseInt(o, 8)));
}

/** getfattr's `\ooo` escapes back to bytes, decoded as UTF-8. */
function unescapeOctal(s: string): string {
  if (!s.includes('\\')) return s;
  const bytes: number[] = [];
  const raw = Buffer.from(s, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x5c && i + 3 < raw.length && /^[0-7]{3}$/.test(raw.subarray(i + 1, i + 4).toString('latin1'))) {
      bytes.push(parseInt(raw.subarray(i + 1, i + 4).toString('latin1'), 8));
      i += 3;
    } else bytes.push(raw[i]);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** A read-write bind mount. */
export async function mountBind(source: string, target: string): Promise<void> {
  await run('mount', ['--bind', source, target]);
}
