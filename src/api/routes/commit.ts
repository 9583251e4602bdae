import { InvalidArgument } from '../../common/errors.js';
import type { ContainerService } from '../../engine/containers/service.js';
import type { ContainerConfig } from '../../engine/containers/types.js';
import { applyChanges } from '../../engine/images/changes.js';
import type { ContainerRootfs } from '../../engine/images/rootfs.js';
import type { Router } from '../router.js';

/** `POST /commit` (`docker commit`) and `GET /containers/{id}/changes` (`docker diff`). */
export function registerCommitRoutes(r: Router, containers: ContainerService, rootfs: ContainerRootfs): void {
  r.post('/commit', async (c) => {
    const ref = c.query.get('container') ?? '';
    if (!ref) throw new InvalidArgument('container is required');
    const rec = containers.store.get(ref);
    // Real clients send an empty body (docker CLI 28) or a partial Config.
    const body = (await c.body<ContainerConfig>()) ?? {};
    const repo = c.query.get('repo') ?? '';
    const tag = c.query.get('tag') ?? '';
    if (!repo && tag) throw new InvalidArgument('tag without a repository name');
    const base: ContainerConfig = { ...rec.Config, ...stripEmpty(body) };
    const config = applyChanges(base, c.query.getAll('changes').filter(Boolean));
    // Docker pauses a running container while committing so the layer is consistent.
    const pause = c.flag('pause', true) && rec.State.Running && !rec.State.Paused;
    if (pause) await containers.pause(rec.Id);
    let img;
    try {
      img = await rootfs.commitContainer(rec.Id, {
        imageId: rec.Image, config: { ...config, Hostname: undefined, Image: undefined } as ContainerConfig, containerConfig: rec.Config,
        comment: c.query.get('comment') ?? undefined, author: c.query.get('author') ?? undefined,
        repoTag: repo ? `${repo}${tag ? `:${tag}` : ''}` : undefined,
        mountTargets: mountTargets(rec),
      });
      containers.emit(rec, 'commit');
    } finally {
      // Unpaused before answering, so the client never sees its container still paused.
      if (pause) await containers.unpause(rec.Id).catch(() => undefined);
    }
    c.json(201, { Id: img.id });
  });

  r.get('/containers/:id/changes', async (c) => {
    const rec = containers.store.get(c.params.id);
    const changes = await rootfs.containerChanges(rec.Id, mountTargets(rec));
    c.json(200, changes.length ? changes : null);
  });
}

function stripEmpty(cfg: ContainerConfig): ContainerConfig {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cfg)) {
    if (v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out as ContainerConfig;
}

/** Files the runtime creates as bind-mount targets; Docker keeps them in an init layer, out of `diff` and `commit`. */
const generatedTargets = ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/.dockerenv'];

function mountTargets(rec: { Mounts?: { Destination: string }[] }): string[] {
  return [...generatedTargets, ...(rec.Mounts ?? []).map((m) => m.Destination)];
}
