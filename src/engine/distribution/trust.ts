/**
 * Which certificate authorities a registry connection trusts.
 *
 * Docker adds the CAs of `certs.d/HOST:PORT/*.crt` to the system's pool; a
 * Node `ca` option instead replaces Node's whole default set, so a registry
 * with its own CA file would stop trusting public CAs (a redirect to a blob
 * CDN would fail). The set here is therefore Node's bundled roots, the file
 * named by NODE_EXTRA_CA_CERTS, and the registry's own CAs.
 *
 * bin/berth starts node without NODE_EXTRA_CA_CERTS (loading it costs every
 * CLI command ~50 ms here) and keeps its value in BERTH_NODE_EXTRA_CA_CERTS,
 * so a daemon run as `berth -d` honours it through this function too.
 *
 *   trustedCAs(undefined)            // undefined: Node's defaults suffice
 *   trustedCAs(['-----BEGIN …'])     // [...roots, ...extra, '-----BEGIN …']
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

export function trustedCAs(registryCAs: readonly string[] | undefined, env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  // With NODE_EXTRA_CA_CERTS set, node already added it to its defaults.
  const savedExtra = env.NODE_EXTRA_CA_CERTS ? '' : env.BERTH_NODE_EXTRA_CA_CERTS ?? '';
  if (!registryCAs?.length && !savedExtra) return undefined;
  const extraFile = env.NODE_EXTRA_CA_CERTS || savedExtra;
  return [...rootCertificates, ...readExtra(extraFile), ...(registryCAs ?? [])];
}

function readExtra(file: string): string[] {
  if (!file) return [];
  try {
    return [readFileSync(file, 'utf8')];
  } catch {
    return []; // node itself only warns about an unreadable NODE_EXTRA_CA_CERTS
  }
}
