import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { buildSpec } from '../src/engine/runtime/spec.js';
import { run, timeCommand, type Sample } from './harness.js';

/**
 * Which container the bare runtime runs:
 * - `runc-spec`: the bundle `runc spec` makes (no seccomp filter, runc's own
 *   short lists of masks and mounts): runc's least work;
 * - `docker-settings`: the spec Berth writes for `run busybox` (built by
 *   buildSpec, the daemon's own code): Docker's default seccomp profile,
 *   capabilities, masked and read-only paths, /dev/shm, mqueue, /etc binds.
 *   Docker and Berth both make runc do this much; the seccomp filter alone
 *   costs runc ~15 ms a container here.
 */
export type FloorKind = 'runc-spec' | 'docker-settings';

/**
 * The floor: the bare OCI runtime doing the same work with no engine. A
 * busybox rootfs shared by two bundles (see FloorKind), run with its own
 * runc root.
 */
export class RuncFloor {
  private constructor(readonly dir: string, private readonly bundles: Record<FloorKind, string>, readonly root: string) {}

  /** The `runc spec` bundle (kept for callers that run it themselves). */
  get bundle(): string { return this.bundles['runc-spec']; }

  static async create(base: string): Promise<RuncFloor> {
    const dir = path.join(base, 'floor');
    const bundle = path.join(dir, 'bundle');
    const rootfs = path.join(bundle, 'rootfs');
    await fs.mkdir(path.join(rootfs, 'bin'), { recursive: true });
    for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc']) await fs.mkdir(path.join(rootfs, d), { recursive: true });
    await fs.copyFile('/bin/busybox', path.join(rootfs, 'bin/busybox'));
    await fs.chmod(path.join(rootfs, 'bin/busybox'), 0o755);
    // Relative links: `busybox --install -s` would point them at the host path.
    for (const applet of run('/bin/busybox', ['--list']).split('\n').filter((a) => a && a !== 'busybox')) {
      await fs.symlink('busybox', path.join(rootfs, 'bin', applet)).catch(() => undefined);
    }
    run('runc', ['spec', '--bundle', bundle]);
    const specFile = path.join(bundle, 'config.json');
    const spec = JSON.parse(await fs.readFile(specFile, 'utf8'));
    spec.process.terminal = false;
    spec.process.args = ['true'];
    spec.root.readonly = false;
    await fs.writeFile(specFile, JSON.stringify(spec));
    const dockerBundle = await RuncFloor.dockerSettingsBundle(dir, rootfs);
    return new RuncFloor(dir, { 'runc-spec': bundle, 'docker-settings': dockerBundle }, path.join(dir, 'runc-root'));
  }

  /** A bundle whose config.json is what the daemon would write for `run busybox true` (new netns, no network). */
  private static async dockerSettingsBundle(dir: string, rootfs: string): Promise<string> {
    const bundle = path.join(dir, 'docker-settings');
    await fs.mkdir(bundle, { recursive: true });
    const etc: { destination: string; type: string; source: string; options: string[] }[] = [];
    for (const name of ['hostname', 'hosts', 'resolv.conf']) {
      const file = path.join(bundle, name);
      await fs.writeFile(file, name === 'hostname' ? 'floor\n' : '\n');
      etc.push({ destination: `/etc/${name}`, type: 'bind', source: file, options: ['rbind', 'rprivate'] });
    }
    const { spec } = await buildSpec({
      id: `floor${process.pid}`, config: { Cmd: ['true'] }, hostConfig: {}, image: { Env: ['PATH=/bin'] },
      rootfs, mounts: etc, network: { mode: 'none' },
    });
    spec.linux.cgroupsPath = `/berth-bench-floor/${process.pid}`; // not under a daemon's /berth
    await fs.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
    return bundle;
  }

  /** `runc run` of `true` in the foreground: create, start, wait, delete. */
  runTrue(i: number, kind: FloorKind = 'runc-spec'): Sample {
    return timeCommand('runc', ['--root', this.root, 'run', '--bundle', this.bundles[kind], `floor-${process.pid}-${i}`]);
  }

  async withSleeper<T>(fn: (id: string) => T, kind: FloorKind = 'runc-spec'): Promise<T> {
    const specFile = path.join(this.bundles[kind], 'config.json');
    const spec = JSON.parse(await fs.readFile(specFile, 'utf8'));
    const args = spec.process.args;
    spec.process.args = ['sleep', '1000'];
    await fs.writeFile(specFile, JSON.stringify(spec));
    const id = `floor-sleep-${process.pid}`;
    try {
      // No pipes: a detached container inherits them, and spawnSync would wait for it to exit.
      run('runc', ['--root', this.root, 'run', '--detach', '--bundle', this.bundles[kind], id], { stdio: 'ignore' });
      return fn(id);
    } finally {
      run('runc', ['--root', this.root, 'delete', '--force', id]);
      spec.process.args = args;
      await fs.writeFile(specFile, JSON.stringify(spec));
    }
  }

  execTrue(id: string): Sample {
    return timeCommand('runc', ['--root', this.root, 'exec', id, 'true']);
  }
}
