import { compareVersions } from '../common/version.js';

export { compareVersions };

/** The Engine API versions Berth answers to (Docker 28 speaks 1.50; old clients still send 1.12+). */
export const API_MAX_VERSION = '1.50';
export const API_MIN_VERSION = '1.12';

/** True when the client asked for at least version `v` (to shape answers by version). */
export function atLeast(asked: string, v: string): boolean {
  return compareVersions(asked, v) >= 0;
}
