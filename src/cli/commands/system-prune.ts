import { DaemonError } from '../../client/index.js';
import { humanSize } from '../format/human.js';
import { confirm, filtersJson } from './lifecycle.js';
import type { CommandSpec } from './define.js';

const collect = (v: string, p: string[] = []) => p.concat(v);

/** `system prune`: the prune endpoints in docker's order; a daemon without one (404) is skipped. */
export const systemPrune: CommandSpec = {
  name: 'prune', usage: '[OPTIONS]', description: 'Remove unused data', args: { max: 0 },
  setup: (c) => {
    c.option('-a, --all', 'Remove all unused images not just dangling ones');
    c.option('--filter <filter>', 'Provide filter values (e.g. "label=<key>=<value>")', collect, []);
    c.option('-f, --force', 'Do not prompt for confirmation');
    c.option('--volumes', 'Prune anonymous volumes');
  },
  action: async (ctx, _args, o) => {
    const items = [
      '  - all stopped containers',
      '  - all networks not used by at least one container',
      ...(o.volumes ? ['  - all anonymous volumes not used by at least one container'] : []),
      o.all ? '  - all images without at least one container associated to them' : '  - all dangling images',
      o.all ? '  - all build cache' : '  - unused build cache',
    ];
    if (!o.force && !(await confirm(ctx, `WARNING! This will remove:\n${items.join('\n')}\n\nAre you sure you want to continue? [y/N] `))) return 0;
    const client = ctx.client();
    const filters = filtersJson(o.filter);
    let reclaimed = 0;
    const prune = async (path: string, query?: Record<string, string | undefined>) => {
      try {
        return await client.json('POST', path, { query: query ?? { filters } });
      } catch (e) {
        if (e instanceof DaemonError && e.status === 404) return undefined;
        throw e;
      }
    };
    const c = await prune('/containers/prune');
    if (c?.ContainersDeleted?.length) ctx.out(`Deleted Containers:\n${c.ContainersDeleted.join('\n')}\n\n`);
    reclaimed += c?.SpaceReclaimed ?? 0;
    const n = await prune('/networks/prune');
    if (n?.NetworksDeleted?.length) ctx.out(`Deleted Networks:\n${n.NetworksDeleted.join('\n')}\n\n`);
    if (o.volumes) {
      const v = await prune('/volumes/prune');
      if (v?.VolumesDeleted?.length) ctx.out(`Deleted Volumes:\n${v.VolumesDeleted.join('\n')}\n\n`);
      reclaimed += v?.SpaceReclaimed ?? 0;
    }
    const i = await prune('/images/prune', { filters: filtersJson([...o.filter, `dangling=${o.all ? 'false' : 'true'}`]) });
    const imgs: any[] = i?.ImagesDeleted ?? [];
    if (imgs.length) {
      ctx.out('Deleted Images:\n');
      for (const it of imgs) ctx.out(it.Untagged ? `untagged: ${it.Untagged}\n` : `deleted: ${it.Deleted}\n`);
      ctx.out('\n');
    }
    reclaimed += i?.SpaceReclaimed ?? 0;
    const b = await prune('/build/prune', { all: o.all ? '1' : undefined, filters });
    if (b?.CachesDeleted?.length) ctx.out(`Deleted build cache objects:\n${b.CachesDeleted.join('\n')}\n\n`);
    reclaimed += b?.SpaceReclaimed ?? 0;
    ctx.out(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
    return 0;
  },
};
