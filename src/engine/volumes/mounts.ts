import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgument } from '../../common/errors.js';
import type { ContainerConfig, HostConfig } from '../containers/types.js';

/** A mount as `inspect` lists it under `Mounts`, plus what start needs. */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: 'local';
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** Volume mounts: skip copying the image's content in (`nocopy`). */
  NoCopy?: boolean;
  Subpath?: string;
  /** tmpfs mount options (`size=64m`, `mode=1777`). */
  TmpfsOptions?: string[];
  /** Binds from `-v` create a missing host directory; `--mount` binds refuse it. */
  CreateHostPath?: boolean;
}

/** A mount request before volumes are looked up: `Name` empty means a new anonymous volume. */
export type MountRequest = MountPoint & { Anonymous?: boolean };

const propagations = new Set(['shared', 'slave', 'private', 'rshared', 'rslave', 'rprivate']);

/**
 * Parses every way a create request asks for mounts — `Binds` (`-v`),
 * `Mounts` (`--mount`), `Tmpfs` (`--tmpfs`) and `Config.Volumes` (image
 * VOLUMEs and `-v /path`) — into one list, later ones never shadowing an
 * explicit mount at the same destination. `--volumes-from` is merged by the
 * caller, which can see other containers.
 */
export function parseMountRequests(config: ContainerConfig, host: HostConfig): MountRequest[] {
  const out: MountRequest[] = [];
  const seen = new Set<string>();
  const add = (m: MountRequest) => {
    const dst = cleanDestination(m.Destination);
    if (seen.has(dst)) throw new InvalidArgument(`Duplicate mount point: ${dst}`);
    seen.add(dst);
    out.push({ ...m, Destination: dst });
  };
  for (const b of host.Binds ?? []) add(parseBind(b));
  for (const m of host.Mounts ?? []) add(parseMountSpec(m));
  for (const [dst, opts] of Object.entries(host.Tmpfs ?? {})) {
    add({ Type: 'tmpfs', Source: '', Destination: dst, Mode: '', RW: !/(^|,)ro(,|$)/.test(opts), Propagation: '', TmpfsOptions: opts ? opts.split(',').filter((o) => o && o !== 'ro' && o !== 'rw') : [] });
  }
  for (const dst of Object.keys(config.Volumes ?? {})) {
    const clean = cleanDestination(dst);
    if (seen.has(clean)) continue;
    add({ Type: 'volume', Name: '', Anonymous: true, Source: '', Destination: clean, Driver: 'local', Mode: '', RW: true, Propagation: '' });
  }
  return out;
}

function cleanDestination(dst: string): string {
  if (!dst || !dst.startsWith('/')) throw new InvalidArgument(`invalid mount config: mount path must be absolute: ${dst || '""'}`);
  const clean = path.posix.normalize(dst).replace(/\/+$/, '') || '/';
  if (clean === '/') throw new InvalidArgument('invalid specification: destination can\'t be \'/\'');
  return clean;
}

/** `-v` syntax: `/host:/ctr[:opts]`, `name:/ctr[:opts]`, or `/ctr` (anonymous). */
export function parseBind(spec: string): MountRequest {
  const parts = spec.split(':');
  if (parts.length === 1) {
    return { Type: 'volume', Name: '', Anonymous: true, Source: '', Destination: parts[0], Driver: 'local', Mode: '', RW: true, Propagation: '' };
  }
  if (parts.length > 3 || parts.some((p) => p === '')) throw new InvalidArgument(`invalid volume specification: '${spec}'`);
  const [src, dst, opts = ''] = parts;
  let rw = true;
  let propagation = '';
  let nocopy = false;
  for (const o of opts.split(',').filter(Boolean)) {
    if (o === 'ro') rw = false;
    else if (o === 'rw') rw = true;
    else if (o === 'nocopy') nocopy = true;
    else if (o === 'z' || o === 'Z') continue; // SELinux labels: nothing to do without SELinux
    else if (propagations.has(o)) propagation = o;
    else throw new InvalidArgument(`invalid mode: ${o}`);
  }
  if (src.startsWith('/')) {
    return { Type: 'bind', Source: path.posix.normalize(src), Destination: dst, Mode: opts, RW: rw, Propagation: propagation || 'rprivate', CreateHostPath: true };
  }
  if (src.startsWith('.') || src.includes('/')) throw new InvalidArgument(`invalid volume specification: '${spec}': bind source must be an absolute path`);
  return { Type: 'volume', Name: src, Source: '', Destination: dst, Driver: 'local', Mode: opts || 'z', RW: rw, Propagation: '', NoCopy: nocopy };
}

/** `--mount` (HostConfig.Mounts) entries. */
export function parseMountSpec(m: NonNullable<HostConfig['Mounts']>[number]): MountRequest {
  const dst = m.Target ?? '';
  const rw = !m.ReadOnly;
  switch (m.Type) {
    case 'bind':
      if (!m.Source || !m.Source.startsWith('/')) throw new InvalidArgument(`invalid mount config for type "bind": invalid mount path: '${m.Source ?? ''}' mount path must be absolute`);
      return { Type: 'bind', Source: path.posix.normalize(m.Source), Destination: dst, Mode: '', RW: rw, Propagation: m.BindOptions?.Propagation || 'rprivate' };
    case 'volume':
      return {
        Type: 'volume', Name: m.Source ?? '', Anonymous: !m.Source, Source: '', Destination: dst, Driver: 'local', Mode: 'z', RW: rw,
        Propagation: '', NoCopy: !!m.VolumeOptions?.NoCopy, Subpath: m.VolumeOptions?.Subpath,
      };
    case 'tmpfs': {
      if (m.Source) throw new InvalidArgument('invalid mount config for type "tmpfs": source must not be specified');
      const opts: string[] = [];
      if (m.TmpfsOptions?.SizeBytes) opts.push(`size=${m.TmpfsOptions.SizeBytes}`);
      if (m.TmpfsOptions?.Mode) opts.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
      return { Type: 'tmpfs', Source: '', Destination: dst, Mode: '', RW: rw, Propagation: '', TmpfsOptions: opts };
    }
    default:
      throw new InvalidArgument(`invalid mount config: mount type unknown: "${m.Type ?? ''}"`);
  }
}

/** `--volumes-from ctr[:ro|rw]`: split the reference from its mode. */
export function parseVolumesFrom(spec: string): { ref: string; mode?: 'ro' | 'rw' } {
  const i = spec.lastIndexOf(':');
  if (i < 0) return { ref: spec };
  const mode = spec.slice(i + 1);
  if (mode !== 'ro' && mode !== 'rw') throw new InvalidArgument(`invalid mode for volumes-from: ${mode}`);
  return { ref: spec.slice(0, i), mode };
}

/** Checks a bind source before start: `-v` creates it, `--mount` requires it. */
export async function prepareBindSource(m: MountPoint): Promise<void> {
  try {
    await fs.stat(m.Source);
  } catch {
    if (!m.CreateHostPath) throw new InvalidArgument(`invalid mount config for type "bind": bind source path does not exist: ${m.Source}`);
    await fs.mkdir(m.Source, { recursive: true, mode: 0o755 });
  }
}
