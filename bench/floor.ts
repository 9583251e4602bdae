import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { run, timeCommand, type Sample } from './harness.js';

/**
 * The floor: the bare OCI runtime doing the same work with no engine. A
 * busybox bundle made with `runc spec`, run with its own runc root.
 */
export class RuncFloor {
  private constructor(readonly dir: string, readonly bundle: string, readonly root: string) {}

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
    return new RuncFloor(dir, bundle, path.join(dir, 'runc-root'));
  }

  /** `runc run` of `true` in the foreground: create, start, wait, delete. */
  runTrue(i: number): Sample {
    return timeCommand('runc', ['--root', this.root, 'run', '--bundle', this.bundle, `floor-${process.pid}-${i}`]);
  }

  async withSleeper<T>(fn: (id: string) => T): Promise<T> {
    const specFile = path.join(this.bundle, 'config.json');
    const spec = JSON.parse(await fs.readFile(specFile, 'utf8'));
    spec.process.args = ['sleep', '1000'];
    await fs.writeFile(specFile, JSON.stringify(spec));
    const id = `floor-sleep-${process.pid}`;
    try {
      // No pipes: a detached container inherits them, and spawnSync would wait for it to exit.
      run('runc', ['--root', this.root, 'run', '--detach', '--bundle', this.bundle, id], { stdio: 'ignore' });
      return fn(id);
    } finally {
      run('runc', ['--root', this.root, 'delete', '--force', id]);
      spec.process.args = ['true'];
      await fs.writeFile(specFile, JSON.stringify(spec));
    }
  }

  execTrue(id: string): Sample {
    return timeCommand('runc', ['--root', this.root, 'exec', id, 'true']);
  }
}
