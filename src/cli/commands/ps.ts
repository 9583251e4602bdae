import { listRenderer } from '../format/list-format.js';
import { CONTAINER_HEADERS, ContainerRow } from '../format/rows.js';
import { parseIntFlag } from '../options/parse-values.js';
import { filtersJson } from './lifecycle.js';
import type { CommandSpec } from './define.js';

const collect = (v: string, p: string[] = []) => p.concat(v);
const DEFAULT = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

export const ps: CommandSpec = {
  name: 'ps', usage: '[OPTIONS]', description: 'List containers', args: { max: 0 },
  setup: (c) => {
    c.option('-a, --all', 'Show all containers (default shows just running)');
    c.option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, []);
    c.option('--format <string>', "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template");
    c.option('-n, --last <int>', 'Show n last created containers (includes all states)');
    c.option('-l, --latest', 'Show the latest created container (includes all states)');
    c.option('--no-trunc', "Don't truncate output");
    c.option('-q, --quiet', 'Only display container IDs');
    c.option('-s, --size', 'Display total file sizes');
  },
  action: async (ctx, _args, o) => {
    const last = o.last !== undefined ? parseIntFlag(o.last, '--last') : undefined;
    const limit = o.latest ? 1 : last !== undefined && last > 0 ? last : undefined;
    let format: string = o.format ?? '';
    if (o.quiet) format = '{{.ID}}';
    else if ((format === '' || format === 'table') && o.size) format = `${DEFAULT}\t{{.Size}}`;
    const wantsSize = !!o.size || /\.Size\b/.test(format);
    const render = listRenderer(format, DEFAULT, CONTAINER_HEADERS);
    const list: any[] = await ctx.client().json('GET', '/containers/json', {
      query: { all: !!o.all || limit !== undefined, limit, size: wantsSize, filters: filtersJson(o.filter) },
    });
    const trunc = o.trunc !== false;
    ctx.out(render(list.map((c) => new ContainerRow(c, trunc))));
    return 0;
  },
};
