import { StdcopyDemuxer } from '../../client/index.js';
import { parseTimestamp } from '../format/human.js';
import { UsageError } from '../options/parse-values.js';
import type { CommandSpec } from './define.js';

export const logs: CommandSpec = {
  name: 'logs', usage: '[OPTIONS] CONTAINER', description: 'Fetch the logs of a container', args: { min: 1, max: 1 },
  setup: (c) => {
    c.option('--details', 'Show extra details provided to logs');
    c.option('-f, --follow', 'Follow log output');
    c.option('--since <string>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)');
    c.option('-n, --tail <string>', 'Number of lines to show from the end of the logs', 'all');
    c.option('-t, --timestamps', 'Show timestamps');
    c.option('--until <string>', 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)');
  },
  action: async (ctx, [name], o) => {
    const ts = (v: string | undefined, flag: string) => {
      if (v === undefined) return undefined;
      try { return parseTimestamp(v); } catch { throw new UsageError(`invalid value for "${flag}": failed to parse value as time or duration: "${v}"`); }
    };
    const since = ts(o.since, 'since');
    const until = ts(o.until, 'until');
    const client = ctx.client();
    const info = await client.json('GET', `/containers/${encodeURIComponent(name)}/json`);
    const res = await client.request('GET', `/containers/${encodeURIComponent(name)}/logs`, {
      query: { stdout: 1, stderr: 1, follow: !!o.follow, tail: o.tail, since, until, timestamps: !!o.timestamps, details: !!o.details },
    });
    const demux = info.Config?.Tty ? undefined : new StdcopyDemuxer((s, p) => (s === 1 ? process.stdout : process.stderr).write(p), { coalesce: true });
    for await (const chunk of res) {
      if (demux) demux.push(chunk);
      else process.stdout.write(chunk);
    }
    return 0;
  },
};
