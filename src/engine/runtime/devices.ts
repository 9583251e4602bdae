import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgument } from '../../common/errors.js';
import type { Device, DeviceRule } from './oci-spec.js';

/** major/minor of a dev_t as glibc encodes it (gnu_dev_major / gnu_dev_minor). */
export function devMajor(rdev: number): number {
  const r = BigInt(rdev);
  return Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & 0xfffff000n));
}
export function devMinor(rdev: number): number {
  const r = BigInt(rdev);
  return Number((r & 0xffn) | ((r >> 12n) & 0xffffff00n));
}

/**
 * A host device as the container should see it, from `--device
 * /dev/fuse[:/dev/fuse[:rwm]]` (HostConfig.Devices).
 *
 *   await hostDevice('/dev/fuse', '/dev/fuse', 'rwm')
 *   // → { device: { type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o666, … }, rule: { allow: true, … } }
 */
export async function hostDevice(onHost: string, inContainer: string, permissions = 'rwm'): Promise<{ device: Device; rule: DeviceRule }> {
  if (!/^[rwm]{1,3}$/.test(permissions)) throw new InvalidArgument(`invalid device mode: ${permissions}`);
  let st;
  try {
    st = await fs.stat(onHost);
  } catch {
    throw new InvalidArgument(`error gathering device information while adding custom device "${onHost}": no such file or directory`);
  }
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) throw new InvalidArgument(`error gathering device information while adding custom device "${onHost}": not a device node`);
  const major = devMajor(st.rdev);
  const minor = devMinor(st.rdev);
  return {
    device: { type, path: inContainer || onHost, major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid },
    rule: { allow: true, type, major, minor, access: permissions },
  };
}

/**
 * Every device node on the host under /dev (what `--privileged` hands to a
 * container), skipping the per-container filesystems (pts, shm, mqueue).
 */
export async function allHostDevices(root = '/dev'): Promise<Device[]> {
  const out: Device[] = [];
  async function walk(dir: string, depth: number): Promise<void> {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (depth < 3 && !['pts', 'shm', 'mqueue', '.lxc', '.udev'].includes(e.name)) await walk(p, depth + 1);
        continue;
      }
      if (!e.isCharacterDevice() && !e.isBlockDevice()) continue;
      if (p === '/dev/console' || p === '/dev/ptmx' || p === '/dev/tty') continue;
      try {
        const st = await fs.stat(p);
        out.push({
          type: e.isCharacterDevice() ? 'c' : 'b', path: p, major: devMajor(st.rdev), minor: devMinor(st.rdev),
          fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid,
        });
      } catch { /* vanished meanwhile */ }
    }
  }
  await walk(root, 0);
  return out;
}
