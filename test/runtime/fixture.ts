import { execFileSync } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContainerRuntime } from '../../src/engine/runtime/runtime.js';
import { buildSpec, type SpecInput } from '../../src/engine/runtime/spec.js';
import { newId } from '../../src/common/ids.js';

/**
 * A throw-away world for runtime tests: a busybox rootfs, a private exec
 * root (own runc root, exit dir, sockets) and a list of containers to
 * remove at the end, whatever happened.
 */
export class RuntimeFixture {
  readonly created: string[] = [];
  private constructor(readonly dir: string, readonly rootfs: string, readonly rt: ContainerRuntime) {}

  static async setup(): Promise<RuntimeFixture> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-rt-'));
    const rootfs = path.join(dir, 'rootfs');
    await makeBusyboxRootfs(rootfs);
    const rt = await ContainerRuntime.open({ execRoot: path.join(dir, 'run'), runtime: 'runc' });
    return new RuntimeFixture(dir, rootfs, rt);
  }

  /** Builds a spec from Docker-style config and creates the container. */
  async create(config: SpecInput['config'], hostConfig: SpecInput['hostConfig'] = {}, extra: Partial<SpecInput> & { openStdin?: boolean; stdinOnce?: boolean } = {}) {
    const id = newId();
    const { spec } = await buildSpec({ id, config, hostConfig, rootfs: this.rootfs, image: { Cmd: ['sh'] }, ...extra });
    this.created.push(id);
    const logPath = this.logPath(id);
    const res = await this.rt.create(id, { spec, logPath, openStdin: extra.openStdin, stdinOnce: extra.stdinOnce });
    return { id, logPath, ...res };
  }

  logPath(id: string): string {
    return path.join(this.dir, 'logs', `${id}.log`);
  }

  /** Removes every container, conmon and the temp dir; never throws. */
  async teardown(): Promise<void> {
    for (const id of this.created) {
      const conmon = this.rt.conmonPid(id);
      await this.rt.delete(id, { force: true }).catch(() => undefined);
      if (conmon && isConmon(conmon)) {
        try { process.kill(conmon, 'SIGKILL'); } catch { /* gone */ }
      }
      // runc delete removes the cgroups; make sure, for containers that never got that far.
      for (const ctl of ['memory', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'blkio', 'pids', 'systemd']) {
        await fs.rmdir(`/sys/fs/cgroup/${ctl}/berth/${id}`).catch(() => undefined);
      }
    }
    this.rt.close();
    await fs.rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function isConmon(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'conmon';
  } catch {
    return false;
  }
}

/** busybox-static with a relative symlink per applet, /etc/passwd and /etc/group. */
export async function makeBusyboxRootfs(root: string): Promise<void> {
  for (const d of ['bin', 'etc', 'tmp', 'root', 'home/alice', 'proc', 'sys', 'dev']) await fs.mkdir(path.join(root, d), { recursive: true });
  await fs.copyFile('/bin/busybox', path.join(root, 'bin/busybox'));
  await fs.chmod(path.join(root, 'bin/busybox'), 0o755);
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  await Promise.all(applets.map((a) => fs.symlink('busybox', path.join(root, 'bin', a)).catch(() => undefined)));
  await fs.writeFile(path.join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  await fs.writeFile(path.join(root, 'etc/group'),
    'root:x:0:\nalice:x:1000:\naudio:x:29:alice\nstaff:x:50:alice,bob\nnogroup:x:65534:\n');
  await fs.chmod(path.join(root, 'tmp'), 0o1777);
}

/** Collects a stream into a string. */
export async function collect(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
