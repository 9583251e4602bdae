import type { ContainerSummary } from './engine.js';
import { L } from './container-spec.js';
import { nameOf } from './plan.js';

/**
 * `compose ps` tables: docker-compose 1.x's (Name / Command / State / Ports,
 * as the fig era printed it) for fig files, docker compose's (NAME IMAGE
 * COMMAND SERVICE CREATED STATUS PORTS) otherwise.
 *
 *   psTableV1(containers)  // "     Name          Command     State    Ports  \n------..."
 */
export function psTableV1(containers: ContainerSummary[]): string {
  const headers = ['Name', 'Command', 'State', 'Ports'];
  const rows = containers.map((c) => [nameOf(c), truncate(c.Command, 30), stateV1(c), portsText(c)]);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const sep = '   ';
  const center = (t: string, w: number) => {
    const left = Math.floor((w - t.length) / 2);
    return ' '.repeat(left) + t + ' '.repeat(w - t.length - left);
  };
  const total = widths.reduce((a, b) => a + b, 0) + sep.length * (widths.length - 1);
  const lines = [headers.map((h, i) => center(h, widths[i])).join(sep), '-'.repeat(total),
    ...rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join(sep))];
  // texttable, which docker-compose prints with, pads every cell, the last one included.
  return lines.join('\n') + '\n';
}

export function psTableV2(containers: ContainerSummary[], now = Date.now()): string {
  const headers = ['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS'];
  const rows = containers.map((c) => [nameOf(c), c.Image, `"${truncateEllipsis(c.Command, 20)}"`, c.Labels[L.service] ?? '',
    `${humanDuration(now / 1000 - c.Created)} ago`, c.Status, portsText(c)]);
  return tabulate(headers, rows);
}

/** Columns padded to their widest cell plus three spaces, as Go's tabwriter does for docker. */
export function tabulate(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [headers, ...rows].map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] + 3))).join('').trimEnd()).join('\n') + '\n';
}

/** `ps --format`: `table` (default), `json` (one object a line) or a `{{.Field}}` template. */
export function psFormatted(containers: ContainerSummary[], format: string): string {
  const records = containers.map((c) => ({
    ID: c.Id, Name: nameOf(c), Image: c.Image, Command: c.Command, Project: c.Labels[L.project] ?? '',
    Service: c.Labels[L.service] ?? '', Created: c.Created, State: c.State, Status: c.Status,
    Health: /\((healthy|unhealthy|health: starting)\)/.exec(c.Status)?.[1] ?? '', ExitCode: exitCode(c),
    Publishers: c.Ports.map((p) => ({ URL: p.IP ?? '', TargetPort: p.PrivatePort, PublishedPort: p.PublicPort ?? 0, Protocol: p.Type })),
    Ports: portsText(c), Labels: Object.entries(c.Labels).map(([k, v]) => `${k}=${v}`).join(','),
  }));
  if (format === 'json') return records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : '');
  const template = format.replace(/^table\s+/, '');
  return records.map((r) => template.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_m, k: string) => String((r as Record<string, unknown>)[k] ?? ''))
    .replace(/\\t/g, '\t').replace(/\\n/g, '\n')).join('\n') + (records.length ? '\n' : '');
}

function exitCode(c: ContainerSummary): number {
  return Number(/Exited \((-?\d+)\)/.exec(c.Status)?.[1] ?? 0);
}

/** docker-compose 1.x states: `Up`, `Up (healthy)`, `Exit 0`, `Paused`, `Restarting`. */
export function stateV1(c: ContainerSummary): string {
  switch (c.State) {
    case 'running': {
      const h = /\((healthy|unhealthy|health: starting)\)/.exec(c.Status);
      return h ? `Up (${h[1]})` : 'Up';
    }
    case 'paused': return 'Paused';
    case 'restarting': return 'Restarting';
    case 'created': return 'Created';
    case 'exited': case 'dead': return `Exit ${exitCode(c)}`;
    default: return c.State;
  }
}

/** `0.0.0.0:8080->80/tcp, 443/tcp`, sorted by container port. */
export function portsText(c: ContainerSummary): string {
  return [...c.Ports].sort((a, b) => a.PrivatePort - b.PrivatePort || (a.PublicPort ?? 0) - (b.PublicPort ?? 0))
    .map((p) => (p.PublicPort ? `${p.IP || '0.0.0.0'}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`))
    .filter((v, i, a) => a.indexOf(v) === i).join(', ');
}

/** docker-compose 1.x's `human_readable_command`: entrypoint then cmd, joined by spaces, unquoted. */
export function legacyCommand(config: { Entrypoint?: string[] | string | null; Cmd?: string[] | string | null }): string {
  const words = (v: string[] | string | null | undefined) => (v == null ? [] : Array.isArray(v) ? v : [v]);
  return [...words(config.Entrypoint), ...words(config.Cmd)].join(' ');
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 4)} ...`;
}

function truncateEllipsis(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/** Go's units.HumanDuration, as docker prints ages: `Less than a second`, `5 seconds`, `About a minute`, `3 hours`. */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}
