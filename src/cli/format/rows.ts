import { ago, goTimeString, humanSize } from './human.js';

/**
 * The per-row objects `ps` and `images` hand to templates, with the fields and
 * methods of the docker CLI's ContainerContext/ImageContext. They are classes
 * so a misspelt field is an error, as with Docker's structs.
 */

export const CONTAINER_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Names: 'NAMES', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED', Ports: 'PORTS', State: 'STATE', Status: 'STATUS', Size: 'SIZE', Labels: 'LABELS', Label: 'LABEL',
  Mounts: 'MOUNTS', Networks: 'NETWORKS', LocalVolumes: 'LOCAL VOLUMES',
};

export class ContainerRow {
  constructor(private readonly c: any, private readonly trunc: boolean, private readonly now = Date.now()) {}
  get ID(): string { return this.trunc ? shortId(this.c.Id) : this.c.Id; }
  get Names(): string {
    const names: string[] = (this.c.Names ?? []).map((n: string) => n.replace(/^\//, ''));
    if (!this.trunc) return names.join(',');
    // Link aliases ("/web/db") are hidden unless --no-trunc.
    const own = names.find((n) => !n.includes('/'));
    return own ?? names[0] ?? '';
  }
  get Image(): string {
    const img: string = this.c.Image ?? '';
    if (img === '') return '<no image>';
    if (this.trunc) {
      if (/^sha256:[0-9a-f]{64}$/.test(img)) return shortId(img);
      return img.replace(/@sha256:[0-9a-f]{64}$/, '');
    }
    return img;
  }
  get ImageID(): string { return this.trunc ? shortId(this.c.ImageID ?? '') : this.c.ImageID ?? ''; }
  get Command(): string {
    const cmd: string = this.c.Command ?? '';
    return JSON.stringify(this.trunc ? ellipsis(cmd, 20) : cmd);
  }
  get CreatedAt(): string { return goTimeString(this.c.Created ?? 0); }
  get RunningFor(): string { return ago(this.c.Created ?? 0, this.now); }
  get Ports(): string { return displayablePorts(this.c.Ports ?? []); }
  get State(): string { return this.c.State ?? ''; }
  get Status(): string { return this.c.Status ?? ''; }
  get Size(): string {
    const rw = humanSize(this.c.SizeRw ?? 0);
    return this.c.SizeRootFs > 0 ? `${rw} (virtual ${humanSize(this.c.SizeRootFs)})` : rw;
  }
  get Labels(): string { return joinLabels(this.c.Labels); }
  Label(name: string): string { return this.c.Labels?.[name] ?? ''; }
  get Mounts(): string {
    return (this.c.Mounts ?? []).map((m: any) => {
      const n = m.Name || m.Source || '';
      return this.trunc ? ellipsis(n, 15) : n;
    }).join(',');
  }
  get Networks(): string { return Object.keys(this.c.NetworkSettings?.Networks ?? {}).sort().join(','); }
  get LocalVolumes(): string { return String((this.c.Mounts ?? []).filter((m: any) => m.Driver === 'local').length); }
  toJSON(): Record<string, string> { return fieldsOf(this, CONTAINER_HEADERS); }
}

export const IMAGE_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT',
  Size: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', VirtualSize: 'VIRTUAL SIZE', Containers: 'CONTAINERS',
};

export class ImageRow {
  constructor(private readonly i: any, readonly Repository: string, readonly Tag: string, readonly Digest: string, private readonly trunc: boolean, private readonly now = Date.now()) {}
  get ID(): string { return this.trunc ? shortId(this.i.Id) : this.i.Id; }
  get CreatedSince(): string { return ago(this.i.Created ?? 0, this.now); }
  get CreatedAt(): string { return goTimeString(this.i.Created ?? 0); }
  get Size(): string { return humanSize(this.i.Size ?? 0); }
  get VirtualSize(): string { return humanSize(this.i.VirtualSize ?? this.i.Size ?? 0); }
  get SharedSize(): string { return this.i.SharedSize >= 0 ? humanSize(this.i.SharedSize) : 'N/A'; }
  get UniqueSize(): string { return this.i.SharedSize >= 0 ? humanSize((this.i.Size ?? 0) - this.i.SharedSize) : 'N/A'; }
  get Containers(): string { return this.i.Containers >= 0 ? String(this.i.Containers) : 'N/A'; }
  toJSON(): Record<string, string> { return fieldsOf(this, IMAGE_HEADERS); }
}

/** One row per repo:tag of each image; untagged ones as <none>. */
export function imageRows(images: any[], trunc: boolean, now = Date.now()): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const img of images) {
    const tags: string[] = (img.RepoTags ?? []).filter((t: string) => t !== '<none>:<none>');
    const digests: string[] = (img.RepoDigests ?? []).filter((d: string) => d !== '<none>@<none>');
    const digestOf = (repo: string) => digests.find((d) => d.startsWith(`${repo}@`))?.split('@')[1] ?? '<none>';
    if (tags.length === 0) {
      if (digests.length) for (const d of digests) { const [repo, dig] = d.split('@'); rows.push(new ImageRow(img, repo, '<none>', dig, trunc, now)); }
      else rows.push(new ImageRow(img, '<none>', '<none>', '<none>', trunc, now));
      continue;
    }
    for (const t of tags) {
      const colon = t.lastIndexOf(':');
      const repo = colon > t.lastIndexOf('/') ? t.slice(0, colon) : t;
      const tag = colon > t.lastIndexOf('/') ? t.slice(colon + 1) : '<none>';
      rows.push(new ImageRow(img, repo, tag, digestOf(repo), trunc, now));
    }
  }
  return rows;
}

/** "sha256:abc…" or "abc…" → the 12-character short ID. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** Docker's Ellipsis: cut to `max` characters, the last one an ellipsis. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  return chars.slice(0, max - 1).join('') + '…';
}

function joinLabels(labels: Record<string, string> | null | undefined): string {
  return Object.keys(labels ?? {}).sort().map((k) => `${k}=${labels![k]}`).join(',');
}

function fieldsOf(o: object, headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(headers).sort()) if (k !== 'Label') out[k] = String((o as any)[k]);
  return out;
}

interface ApiPort { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }

/** The PORTS column: consecutive ports grouped into ranges, host mappings last. */
export function displayablePorts(ports: ApiPort[]): string {
  const sorted = [...ports].sort((a, b) =>
    a.PrivatePort !== b.PrivatePort ? a.PrivatePort - b.PrivatePort
      : (a.IP ?? '') !== (b.IP ?? '') ? ((a.IP ?? '') < (b.IP ?? '') ? -1 : 1)
        : (a.PublicPort ?? 0) !== (b.PublicPort ?? 0) ? (a.PublicPort ?? 0) - (b.PublicPort ?? 0)
          : a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0);
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  for (const p of sorted) {
    let key = p.Type;
    if (p.IP) {
      if (p.PublicPort !== p.PrivatePort) {
        const host = p.IP.includes(':') ? `[${p.IP}]` : p.IP;
        hostMappings.push(`${host}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) { groups.set(key, { first: p.PrivatePort, last: p.PrivatePort }); continue; }
    if (p.PrivatePort === g.last + 1) { g.last = p.PrivatePort; continue; }
    result.push(formGroup(key, g.first, g.last));
    groups.set(key, { first: p.PrivatePort, last: p.PrivatePort });
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  return [...result, ...hostMappings].join(', ');
}

function formGroup(key: string, first: number, last: number): string {
  const slash = key.lastIndexOf('/');
  const ip = slash >= 0 ? key.slice(0, slash) : '';
  const type = slash >= 0 ? key.slice(slash + 1) : key;
  let group = first === last ? String(first) : `${first}-${last}`;
  if (ip) group = `${ip}:${group}->${group}`;
  return `${group}/${type}`;
}
