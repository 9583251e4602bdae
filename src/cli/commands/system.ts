import { arch, platform } from 'node:os';
import { CLIENT_API_VERSION } from '../../client/index.js';
import type { CliContext } from '../cli-context.js';
import { compileTemplate } from '../format/gotemplate.js';
import { bytesSize, parseTimestamp, rfc3339NanoFixed } from '../format/human.js';
import { UsageError } from '../options/parse-values.js';
import { filtersJson } from './lifecycle.js';
import type { CommandSpec } from './define.js';
import { CLIENT_VERSION } from '../client-version.js';

/** Splits a byte stream into text lines. */
async function* lines(r: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let buf = '';
  for await (const c of r) {
    buf += c.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (l) yield l;
    }
  }
  if (buf.trim()) yield buf.trim();
}

export { CLIENT_VERSION };

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };

function clientInfo(ctx: CliContext, apiVersion: string) {
  return {
    Platform: { Name: 'Berth' },
    Version: CLIENT_VERSION,
    ApiVersion: apiVersion,
    DefaultAPIVersion: CLIENT_API_VERSION,
    GoVersion: `node${process.versions.node}`,
    GitCommit: 'unknown',
    BuildTime: '',
    Os: platform(),
    Arch: GOARCH[arch()] ?? arch(),
    Context: 'default',
  };
}

const VERSION_TEMPLATE = `Client:{{if .Client.Platform.Name}} {{.Client.Platform.Name}}{{end}}
 Version:           {{.Client.Version}}
 API version:       {{.Client.ApiVersion}}{{if ne .Client.ApiVersion .Client.DefaultAPIVersion}} (downgraded from {{.Client.DefaultAPIVersion}}){{end}}
 Go version:        {{.Client.GoVersion}}
 Git commit:        {{.Client.GitCommit}}
 Built:             {{.Client.BuildTime}}
 OS/Arch:           {{.Client.Os}}/{{.Client.Arch}}
 Context:           {{.Client.Context}}
{{- if .ServerOK}}

Server:{{if .Server.Platform.Name}} {{.Server.Platform.Name}}{{end}}
{{- range .Server.Components}}
 {{.Name}}:
{{- if eq .Name "Engine" }}
  Version:          {{.Version}}
  API version:      {{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Go version:       {{index .Details "GoVersion"}}
  Git commit:       {{index .Details "GitCommit"}}
  Built:            {{index .Details "BuildTime"}}
  OS/Arch:          {{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:     {{index .Details "Experimental"}}
{{- else }}
  Version:          {{.Version}}
{{- range $key, $value := .Details}}
  {{printf "%-18s" (printf "%s:" $key)}}{{ $value }}
{{- end}}
{{- end}}
{{- end}}
{{- end}}
`;

export const version: CommandSpec = {
  name: 'version', usage: '[OPTIONS]', description: 'Show the Berth version information', args: { max: 0 },
  setup: (c) => c.option('-f, --format <string>', 'Format output using a custom template'),
  action: async (ctx, _args, o) => {
    const client = ctx.client();
    let server: any;
    let serverErr: unknown;
    try {
      server = await client.json('GET', '/version');
    } catch (e) {
      serverErr = e;
    }
    const data: any = { Client: clientInfo(ctx, serverErr ? CLIENT_API_VERSION : await client.apiVersion()), Server: server ?? null, ServerOK: !!server };
    if (server && !server.Components) {
      server.Components = [{ Name: 'Engine', Version: server.Version, Details: { ApiVersion: server.ApiVersion, MinAPIVersion: server.MinAPIVersion, GoVersion: server.GoVersion, GitCommit: server.GitCommit, BuildTime: server.BuildTime, Os: server.Os, Arch: server.Arch, Experimental: String(!!server.Experimental) } }];
    }
    for (const c of server?.Components ?? []) if (c.Details?.BuildTime) c.Details.BuildTime = ansic(c.Details.BuildTime);
    if (o.format) {
      const text = compileTemplate(o.format).execute(data);
      ctx.out(`${o.format === 'json' ? JSON.stringify(data) : text}\n`);
    } else {
      ctx.out(compileTemplate(VERSION_TEMPLATE).execute(data).replace(/\n+$/, '') + '\n');
    }
    if (serverErr) throw serverErr;
    return 0;
  },
};

/** Go's time.ANSIC layout ("Thu May  7 21:09:36 2026"), as the docker CLI shows build times. */
function ansic(value: string): string {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
}

export const info: CommandSpec = {
  name: 'info', usage: '[OPTIONS]', description: 'Display system-wide information', args: { max: 0 },
  setup: (c) => c.option('-f, --format <string>', 'Format output using a custom template'),
  action: async (ctx, _args, o) => {
    const i = await ctx.client().json('GET', '/info');
    if (o.format) {
      ctx.out(`${o.format === 'json' ? JSON.stringify(i) : compileTemplate(o.format).execute(i)}\n`);
      return 0;
    }
    const runtimes = Object.keys(i.Runtimes ?? {}).join(' ');
    const lines = [
      'Client:', ` Context:    default`, ` Debug Mode: false`, '',
      'Server:',
      ` Containers: ${i.Containers ?? 0}`, `  Running: ${i.ContainersRunning ?? 0}`, `  Paused: ${i.ContainersPaused ?? 0}`, `  Stopped: ${i.ContainersStopped ?? 0}`,
      ` Images: ${i.Images ?? 0}`,
      ` Server Version: ${i.ServerVersion ?? ''}`,
      ` Storage Driver: ${i.Driver ?? ''}`,
      ...(i.DriverStatus ?? []).map((kv: string[]) => `  ${kv[0]}: ${kv[1]}`),
      ` Logging Driver: ${i.LoggingDriver ?? ''}`,
      ` Cgroup Driver: ${i.CgroupDriver ?? ''}`,
      ` Cgroup Version: ${i.CgroupVersion ?? ''}`,
      ` Runtimes: ${runtimes}`,
      ` Default Runtime: ${i.DefaultRuntime ?? ''}`,
      ...(i.SecurityOptions?.length ? [' Security Options:', ...i.SecurityOptions.map((s: string) => `  ${s.replace(/^name=/, '')}`)] : []),
      ` Kernel Version: ${i.KernelVersion ?? ''}`,
      ` Operating System: ${i.OperatingSystem ?? ''}`,
      ` OSType: ${i.OSType ?? ''}`,
      ` Architecture: ${i.Architecture ?? ''}`,
      ` CPUs: ${i.NCPU ?? 0}`,
      ` Total Memory: ${bytesSize(i.MemTotal ?? 0)}`,
      ` Name: ${i.Name ?? ''}`,
      ` ID: ${i.ID ?? ''}`,
      ` Docker Root Dir: ${i.DockerRootDir ?? ''}`,
      ` Debug Mode: ${!!i.Debug}`,
      ` Experimental: ${!!i.ExperimentalBuild}`,
      ` Live Restore Enabled: ${!!i.LiveRestoreEnabled}`,
    ];
    ctx.out(lines.join('\n') + '\n');
    for (const w of i.Warnings ?? []) ctx.err(`${w}\n`);
    return 0;
  },
};

const collect = (v: string, p: string[] = []) => p.concat(v);

export const events: CommandSpec = {
  name: 'events', usage: '[OPTIONS]', description: 'Get real time events from the server', args: { max: 0 },
  setup: (c) => {
    c.option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, []);
    c.option('--format <string>', 'Format output using a custom template');
    c.option('--since <string>', 'Show all events created since timestamp');
    c.option('--until <string>', 'Stream events until this timestamp');
  },
  action: async (ctx, _args, o) => {
    const ts = (v: string | undefined, flag: string) => {
      if (v === undefined) return undefined;
      try { return parseTimestamp(v); } catch { throw new UsageError(`invalid value for "${flag}": failed to parse value as time or duration: "${v}"`); }
    };
    const client = ctx.client();
    const res = await client.request('GET', '/events', { query: { since: ts(o.since, 'since'), until: ts(o.until, 'until'), filters: filtersJson(o.filter) } });
    const tmpl = o.format && o.format !== 'json' ? compileTemplate(o.format) : undefined;
    process.once('SIGINT', () => { res.destroy(); });
    try {
      for await (const line of lines(res)) {
        const ev = JSON.parse(line);
        // timeNano exceeds a double's precision: keep its exact digits from the text.
        const nano = /"timeNano":\s*(\d+)/.exec(line)?.[1];
        if (nano) Object.defineProperty(ev, 'exactTimeNano', { value: BigInt(nano), enumerable: false });
        if (ev.error || ev.errorDetail) throw new Error(ev.errorDetail?.message ?? ev.error);
        if (o.format === 'json') ctx.out(`${line}\n`);
        else if (tmpl) ctx.out(`${tmpl.execute(ev)}\n`);
        else ctx.out(formatEvent(ev));
      }
    } catch (e) {
      if (res.destroyed) return 0;
      throw e;
    }
    return 0;
  },
};

/** Docker's default event line: time, type, action, actor ID, then sorted attributes. */
export function formatEvent(ev: any): string {
  const nanos: bigint = ev.exactTimeNano ?? (ev.timeNano !== undefined ? BigInt(Math.round(ev.timeNano)) : BigInt(ev.time ?? 0) * 1_000_000_000n);
  let line = `${rfc3339NanoFixed(nanos)} `;
  const action = ev.Action ?? ev.status ?? '';
  if (ev.Type) line += `${ev.Type} ${action} ${ev.Actor?.ID ?? ev.id ?? ''}`;
  else line += `${ev.id ?? ''}: ${action}`;
  const attrs = ev.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length) line += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return `${line}\n`;
}
