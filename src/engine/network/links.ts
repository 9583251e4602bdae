/**
 * Legacy `--link name:alias` environment variables, as the seed shows them:
 *
 *   linkEnv({ alias: 'mysql_host', name: 'db', ip: '172.17.0.77', ports: ['3306/tcp'], env: [],
 *             linkingName: 'app' })
 *   // MYSQL_HOST_PORT=tcp://172.17.0.77:3306, MYSQL_HOST_PORT_3306_TCP=..., _ADDR, _PORT, _PROTO,
 *   // MYSQL_HOST_NAME=/app/mysql_host, MYSQL_HOST_ENV_<var> for the target's own env
 */
export interface LinkTarget {
  alias: string;
  /** The linked container's name. */
  name: string;
  ip: string;
  /** Exposed ports of the target, `3306/tcp` form. */
  ports: string[];
  /** The target's configured `KEY=value` environment (from its image and `-e`). */
  env: string[];
  /** Name of the container being created (for `ALIAS_NAME=/<it>/<alias>`). */
  linkingName: string;
}

/** Variables Docker leaves out of `ALIAS_ENV_*`: they describe the target's own runtime, not its config. */
const skipEnv = new Set(['HOME', 'HOSTNAME', 'PATH']);

export function linkEnv(t: LinkTarget): string[] {
  const prefix = t.alias.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  const out: string[] = [];
  const ports = [...t.ports].map(parsePort).sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto));
  if (ports.length) {
    const first = ports[0];
    out.push(`${prefix}_PORT=${first.proto}://${t.ip}:${first.port}`);
  }
  for (const p of ports) {
    const base = `${prefix}_PORT_${p.port}_${p.proto.toUpperCase()}`;
    out.push(`${base}=${p.proto}://${t.ip}:${p.port}`, `${base}_ADDR=${t.ip}`, `${base}_PORT=${p.port}`, `${base}_PROTO=${p.proto}`);
  }
  out.push(`${prefix}_NAME=/${t.linkingName.replace(/^\//, '')}/${t.alias}`);
  for (const kv of t.env) {
    const i = kv.indexOf('=');
    const key = i < 0 ? kv : kv.slice(0, i);
    if (!key || skipEnv.has(key)) continue;
    out.push(`${prefix}_ENV_${key}=${i < 0 ? '' : kv.slice(i + 1)}`);
  }
  return out;
}

function parsePort(s: string): { port: number; proto: string } {
  const [p, proto = 'tcp'] = s.split('/');
  return { port: Number(p), proto: proto.toLowerCase() };
}

/** Parses `name:alias` (alias defaults to the name). */
export function parseLink(s: string): { name: string; alias: string } {
  const [name, alias] = s.split(':');
  return { name: name.replace(/^\//, ''), alias: (alias ?? name).replace(/^.*\//, '') };
}
