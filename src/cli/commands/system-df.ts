import { listRenderer } from '../format/list-format.js';
import { humanSize } from '../format/human.js';
import { ContainerRow, imageRows } from '../format/rows.js';
import { renderTable } from '../format/tabwriter.js';
import type { CommandSpec } from './define.js';

const SUMMARY = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const SUMMARY_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

/** One line of the `system df` summary, as the docker CLI's diskUsage contexts compute it. */
interface UsageLine { Type: string; TotalCount: string; Active: string; Size: string; Reclaimable: string }

const pct = (part: number, total: number) => total > 0 ? `${humanSize(part, 4)} (${Math.floor((part * 100) / total)}%)` : humanSize(part, 4);
const isActive = (c: any) => ['running', 'paused', 'restarting'].includes(c.State);

/** The summary rows from a `/system/df` answer. */
export function usageLines(df: any): UsageLine[] {
  const images: any[] = df.Images ?? [];
  const containers: any[] = df.Containers ?? [];
  const volumes: any[] = df.Volumes ?? [];
  const layers: number = df.LayersSize ?? 0;
  let imgReclaim = layers;
  for (const i of images) if (i.Containers > 0 && i.SharedSize >= 0) imgReclaim -= i.Size - i.SharedSize;
  const ctrSize = containers.reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const ctrReclaim = containers.filter((c) => !isActive(c)).reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const volSize = volumes.reduce((n, v) => n + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const volReclaim = volumes.filter((v) => !(v.UsageData?.RefCount > 0)).reduce((n, v) => n + Math.max(0, v.UsageData?.Size ?? 0), 0);
  return [
    { Type: 'Images', TotalCount: String(images.length), Active: String(images.filter((i) => i.Containers > 0).length), Size: humanSize(layers, 4), Reclaimable: pct(imgReclaim, layers) },
    { Type: 'Containers', TotalCount: String(containers.length), Active: String(containers.filter(isActive).length), Size: humanSize(ctrSize, 4), Reclaimable: pct(ctrReclaim, ctrSize) },
    { Type: 'Local Volumes', TotalCount: String(volumes.length), Active: String(volumes.filter((v) => v.UsageData?.RefCount > 0).length), Size: humanSize(volSize, 4), Reclaimable: pct(volReclaim, volSize) },
    { Type: 'Build Cache', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' },
  ];
}

export const systemDf: CommandSpec = {
  name: 'df', usage: '[OPTIONS]', description: 'Show docker disk usage', args: { max: 0 },
  setup: (c) => {
    c.option('--format <string>', "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template");
    c.option('-v, --verbose', 'Show detailed information on space usage');
  },
  action: async (ctx, _args, o) => {
    const render = o.verbose ? undefined : listRenderer(o.format, SUMMARY, SUMMARY_HEADERS);
    const df = await ctx.client().json('GET', '/system/df');
    if (render) {
      ctx.out(render(usageLines(df)));
      return 0;
    }
    const imgs = imageRows(df.Images ?? [], true);
    ctx.out('Images space usage:\n\n');
    ctx.out(renderTable(['REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS',
      ...imgs.map((r) => [r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size, r.SharedSize, r.UniqueSize, r.Containers].join('\t'))]));
    ctx.out('\nContainers space usage:\n\n');
    ctx.out(renderTable(['CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES',
      ...(df.Containers ?? []).map((c: any) => {
        const r = new ContainerRow(c, true);
        return [r.ID, r.Image, r.Command, r.LocalVolumes, humanSize(c.SizeRw ?? 0), r.RunningFor, r.Status, r.Names].join('\t');
      })]));
    ctx.out('\nLocal Volumes space usage:\n\n');
    ctx.out(renderTable(['VOLUME NAME\tLINKS\tSIZE',
      ...(df.Volumes ?? []).map((v: any) => [v.Name, String(v.UsageData?.RefCount ?? 0), v.UsageData?.Size >= 0 ? humanSize(v.UsageData.Size) : 'N/A'].join('\t'))]));
    ctx.out('\nBuild cache usage: 0B\n\n');
    ctx.out(renderTable(['CACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED']));
    return 0;
  },
};
