import { createHash } from 'node:crypto';
import type { Service } from './model.js';
import { serviceDocument } from './config-output.js';

/**
 * The `com.docker.compose.config-hash` label: sha256 (hex) of the service's
 * normalised configuration with the keys that do not change a container
 * left out (build, pull_policy, scale, deploy.replicas, depends_on,
 * profiles), as docker compose computes it. A container whose label differs
 * from its service's current hash is recreated by `up`.
 *
 *   serviceConfigHash(project.services.web) // → 'e3b0c442...'
 */
export function serviceConfigHash(s: Service): string {
  const doc = serviceDocument({ ...s, build: undefined, pull_policy: undefined, scale: undefined, depends_on: {}, profiles: [],
    deploy: s.deploy ? { ...s.deploy, replicas: undefined } : undefined });
  return createHash('sha256').update(canonicalJson(doc)).digest('hex');
}

/** JSON with object keys sorted at every level, so equal configurations hash equal. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}
