import { InvalidArgument } from '../../common/errors.js';
import type { NetworkRecord } from './records.js';

/**
 * Docker's network list and prune filters: `name` (substring), `id`
 * (prefix), `driver`, `label` (`k` or `k=v`), `type` (`builtin`/`custom`)
 * and `dangling`. Values of one key are alternatives; keys must all match.
 *
 *   matchesFilters(rec, { type: ['custom'], label: ['env=prod'] }, inUse)
 */
export function matchesFilters(n: NetworkRecord, f: Record<string, string[]>, inUse: boolean): boolean {
  const builtin = n.Default || n.Driver !== 'bridge';
  for (const [k, vals] of Object.entries(f)) {
    if (!vals?.length) continue;
    const ok = vals.some((v) => {
      switch (k) {
        case 'name': return n.Name.includes(v);
        case 'id': return n.Id.startsWith(v);
        case 'driver': return n.Driver === v;
        case 'type': return v === 'builtin' ? builtin : v === 'custom' ? !builtin : false;
        case 'dangling': return (v === 'true' || v === '1') === !inUse && !builtin;
        case 'label': {
          const [lk, lv] = v.split('=', 2);
          return lk in n.Labels && (lv === undefined || n.Labels[lk] === lv);
        }
        default: throw new InvalidArgument(`invalid filter '${k}'`);
      }
    });
    if (!ok) return false;
  }
  return true;
}
