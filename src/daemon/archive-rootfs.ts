import { KeyedLock } from '../engine/containers/lock.js';

/**
 * The filesystem of a container for `cp` (archive requests), mounted for the
 * request when the container is not running. Holds are counted, so
 * overlapping requests share one mount, and mount and unmount of one
 * container are serialised: the CLI sends its next request as soon as the
 * answer to the last one arrives, which can be before that request's unmount
 * has finished; a mount racing it found the mount point still mounted, and
 * then wrote into the bare directory once the unmount went through.
 *
 *   const held = await rootfs.hold(id);   // held.rootfs: the merged directory
 *   ...
 *   await held.release();                 // unmounts unless others hold it or the container runs
 */
export class ArchiveRootfs {
  private users = new Map<string, number>();
  private lock = new KeyedLock();

  constructor(private readonly ops: {
    mount(id: string): Promise<string>;
    unmount(id: string): Promise<void>;
    /** True while the container runs (its own mount must stay). */
    running(id: string): boolean;
  }) {}

  async hold(id: string): Promise<{ rootfs: string; release: () => Promise<void> }> {
    const rootfs = await this.lock.run(id, async () => {
      const dir = await this.ops.mount(id);
      this.users.set(id, (this.users.get(id) ?? 0) + 1);
      return dir;
    });
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await this.lock.run(id, async () => {
        const left = (this.users.get(id) ?? 1) - 1;
        if (left > 0) return void this.users.set(id, left);
        this.users.delete(id);
        if (!this.ops.running(id)) await this.ops.unmount(id);
      });
    };
    return { rootfs, release };
  }
}
