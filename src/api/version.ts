/** The Engine API versions Berth answers to (Docker 28 speaks 1.50; old clients still send 1.12+). */
export const API_MAX_VERSION = '1.50';
export const API_MIN_VERSION = '1.12';

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** True when the client asked for at least version `v` (to shape answers by version). */
export function atLeast(asked: string, v: string): boolean {
  return compareVersions(asked, v) >= 0;
}
