import { InvalidArgument } from '../../common/errors.js';
import { allCapabilities, availableCapabilities, defaultCapabilities } from './defaults.js';

/**
 * The capability set of a container from Docker's `--cap-add` / `--cap-drop`
 * (names with or without `CAP_`, any case, or `ALL`) applied to the default
 * set, or all capabilities for `--privileged` (those the daemon itself can
 * hold: see availableCapabilities).
 *
 *   capabilitySet({ add: ['net_admin'], drop: ['MKNOD'] })
 *   // → default set + CAP_NET_ADMIN − CAP_MKNOD
 *
 * As in Docker, adding ALL starts from every capability and then applies the
 * drops; dropping ALL starts from nothing and then applies the adds.
 */
export function capabilitySet(opts: { add?: string[] | null; drop?: string[] | null; privileged?: boolean }): string[] {
  if (opts.privileged) return [...availableCapabilities()];
  const add = (opts.add ?? []).map(normalizeCapability);
  const drop = (opts.drop ?? []).map(normalizeCapability);
  for (const c of [...add, ...drop]) {
    if (c !== 'ALL' && !allCapabilities.includes(c)) throw new InvalidArgument(`invalid capability: ${c}`);
  }
  let caps: string[];
  if (add.includes('ALL')) {
    caps = drop.includes('ALL') ? [] : availableCapabilities().filter((c) => !drop.includes(c));
    return caps;
  }
  caps = drop.includes('ALL') ? [] : defaultCapabilities.filter((c) => !drop.includes(c));
  for (const c of add) if (!caps.includes(c)) caps.push(c);
  return caps;
}

/** `net_admin`, `NET_ADMIN`, `cap_net_admin` → `CAP_NET_ADMIN`; `all` → `ALL`. */
export function normalizeCapability(name: string): string {
  const up = name.trim().toUpperCase();
  if (up === 'ALL' || up === 'CAP_ALL') return 'ALL';
  return up.startsWith('CAP_') ? up : `CAP_${up}`;
}
