import * as path from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import type {
  BuildRequest, ComposeEngine, ContainerInspect, ContainerSummary, CreateContainerBody, CreateNetworkBody, CreateVolumeBody,
  EndpointSettings, ExecRequest, Filters, LogLine, NetworkSummary, VolumeSummary,
} from './engine.js';

type Query = Record<string, string | number | boolean | string[] | undefined | null>;
interface ApiRequest { query?: Query; body?: unknown; contentType?: string; headers?: Record<string, string> }

/**
 * The slice of an Engine API client compose needs: JSON calls, raw
 * responses (logs, progress streams) and hijacked connections (attach,
 * exec). `src/client`'s EngineClient has this shape; errors carry the HTTP
 * `status`.
 */
export interface EngineApi {
  json<T = any>(method: string, path: string, opts?: ApiRequest): Promise<T>;
  request(method: string, path: string, opts?: ApiRequest): Promise<Readable>;
  hijack(method: string, path: string, opts?: ApiRequest): Promise<{ socket: Duplex; head: Buffer }>;
}

/** Packs a build context as `docker build` sends it (the builder's `packContext`). */
export type PackContext = (dir: string, opts: { dockerfile?: string }) => Promise<{ stream: Readable; dockerfile?: string }>;

/** The process's stdio, replaceable in tests. */
export interface Stdio { stdin: NodeJS.ReadStream | Readable; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }

/**
 * ComposeEngine over the Docker Engine API, so `berth compose` drives
 * berthd (or any Docker-compatible daemon) the way docker compose does.
 *
 *   const engine = new ApiComposeEngine(new EngineClient(EngineClient.hostFromEnv()), packContext);
 *   await new ComposeRunner(engine, project, io).up({ detach: true });
 */
export class ApiComposeEngine implements ComposeEngine {
  constructor(private readonly api: EngineApi, private readonly pack?: PackContext,
    private readonly stdio: Stdio = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }) {}

  listContainers(filters: Filters, all: boolean): Promise<ContainerSummary[]> {
    return this.api.json('GET', '/containers/json', { query: { all, filters: JSON.stringify(filters) } });
  }

  inspectContainer(id: string): Promise<ContainerInspect> {
    return this.api.json('GET', `/containers/${enc(id)}/json`);
  }

  createContainer(name: string, body: CreateContainerBody): Promise<{ Id: string; Warnings?: string[] }> {
    return this.api.json('POST', '/containers/create', { query: { name }, body });
  }

  async startContainer(id: string): Promise<void> { await this.api.json('POST', `/containers/${enc(id)}/start`); }
  async stopContainer(id: string, t?: number): Promise<void> { await this.api.json('POST', `/containers/${enc(id)}/stop`, { query: { t } }); }
  async restartContainer(id: string, t?: number): Promise<void> { await this.api.json('POST', `/containers/${enc(id)}/restart`, { query: { t } }); }
  async killContainer(id: string, signal?: string): Promise<void> { await this.api.json('POST', `/containers/${enc(id)}/kill`, { query: { signal } }); }
  async pauseContainer(id: string): Promise<void> { await this.api.json('POST', `/containers/${enc(id)}/pause`); }
  async unpauseContainer(id: string): Promise<void> { await this.api.json('POST', `/containers/${enc(id)}/unpause`); }
  async removeContainer(id: string, opts: { v?: boolean; force?: boolean }): Promise<void> {
    await this.api.json('DELETE', `/containers/${enc(id)}`, { query: { v: !!opts.v, force: !!opts.force } });
  }
  async renameContainer(id: string, name: string): Promise<void> { await this.api.json('POST', `/containers/${enc(id)}/rename`, { query: { name } }); }

  async waitContainer(id: string): Promise<number> {
    const r = await this.api.json<{ StatusCode: number }>('POST', `/containers/${enc(id)}/wait`);
    return r.StatusCode;
  }

  async *logs(id: string, opts: { follow?: boolean; tail?: string; timestamps?: boolean }): AsyncIterable<LogLine> {
    const tty = (await this.inspectContainer(id)).Config?.Tty === true;
    const res = await this.api.request('GET', `/containers/${enc(id)}/logs`, {
      query: { stdout: true, stderr: true, follow: !!opts.follow, tail: opts.tail ?? 'all', timestamps: !!opts.timestamps },
    });
    const partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
    const emit = function* (stream: 'stdout' | 'stderr', text: string): Generator<LogLine> {
      partial[stream] += text;
      let nl: number;
      while ((nl = partial[stream].indexOf('\n')) >= 0) {
        const line = partial[stream].slice(0, nl + 1);
        partial[stream] = partial[stream].slice(nl + 1);
        yield splitTimestamp(stream, line, !!opts.timestamps);
      }
    };
    const frames = tty ? rawFrames(res) : demux(res);
    for await (const f of frames) yield* emit(f.stream, f.data.toString('utf8'));
    for (const s of ['stdout', 'stderr'] as const) if (partial[s]) yield splitTimestamp(s, partial[s], !!opts.timestamps);
  }

  top(id: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    return this.api.json('GET', `/containers/${enc(id)}/top`);
  }

  listNetworks(filters: Filters): Promise<NetworkSummary[]> {
    return this.api.json('GET', '/networks', { query: { filters: JSON.stringify(filters) } });
  }
  createNetwork(body: CreateNetworkBody): Promise<{ Id: string }> { return this.api.json('POST', '/networks/create', { body }); }
  async removeNetwork(id: string): Promise<void> { await this.api.json('DELETE', `/networks/${enc(id)}`); }
  async connectNetwork(network: string, container: string, endpoint: EndpointSettings): Promise<void> {
    await this.api.json('POST', `/networks/${enc(network)}/connect`, { body: { Container: container, EndpointConfig: endpoint } });
  }

  async listVolumes(filters: Filters): Promise<VolumeSummary[]> {
    const r = await this.api.json<{ Volumes: VolumeSummary[] | null }>('GET', '/volumes', { query: { filters: JSON.stringify(filters) } });
    return r.Volumes ?? [];
  }
  createVolume(body: CreateVolumeBody): Promise<VolumeSummary> { return this.api.json('POST', '/volumes/create', { body }); }
  async removeVolume(name: string): Promise<void> { await this.api.json('DELETE', `/volumes/${enc(name)}`); }

  async inspectImage(ref: string): Promise<{ Id: string; RepoTags?: string[]; Size?: number; Created?: string } | undefined> {
    try {
      return await this.api.json('GET', `/images/${enc(ref)}/json`);
    } catch (err) {
      if ((err as { status?: number }).status === 404) return undefined;
      throw err;
    }
  }

  async pullImage(ref: string, onProgress?: (line: string) => void): Promise<void> {
    const [fromImage, tag] = splitRef(ref);
    const res = await this.api.request('POST', '/images/create', { query: { fromImage, tag: tag ?? 'latest' }, headers: { 'X-Registry-Auth': 'e30=' } });
    await followProgress(res, onProgress);
  }

  async pushImage(ref: string, onProgress?: (line: string) => void): Promise<void> {
    const [name, tag] = splitRef(ref);
    const res = await this.api.request('POST', `/images/${enc(name)}/push`, { query: { tag }, headers: { 'X-Registry-Auth': 'e30=' } });
    await followProgress(res, onProgress);
  }

  async removeImage(ref: string): Promise<void> { await this.api.json('DELETE', `/images/${enc(ref)}`); }

  async buildImage(opts: BuildRequest, onProgress?: (line: string) => void): Promise<void> {
    if (!this.pack) throw new Error('building needs a context packer');
    // Compose names the Dockerfile relative to the build context (docker build -f: to the cwd).
    const dockerfile = opts.dockerfile ? path.resolve(opts.context, opts.dockerfile) : undefined;
    const packed = await this.pack(opts.context, { dockerfile });
    const res = await this.api.request('POST', '/build', {
      body: packed.stream, contentType: 'application/x-tar',
      query: { t: opts.tag, dockerfile: packed.dockerfile ?? opts.dockerfile, buildargs: JSON.stringify(opts.args), target: opts.target,
        labels: JSON.stringify(opts.labels), nocache: opts.noCache, pull: opts.pull, rm: true },
    });
    await followProgress(res, onProgress);
  }

  async exec(id: string, opts: ExecRequest): Promise<number> {
    const { Id } = await this.api.json<{ Id: string }>('POST', `/containers/${enc(id)}/exec`, {
      body: { Cmd: opts.cmd, AttachStdin: opts.interactive && !opts.detach, AttachStdout: !opts.detach, AttachStderr: !opts.detach,
        Tty: opts.tty, Env: opts.env, WorkingDir: opts.workingDir, User: opts.user, Privileged: !!opts.privileged },
    });
    if (opts.detach) {
      await this.api.json('POST', `/exec/${Id}/start`, { body: { Detach: true, Tty: opts.tty } });
      return 0;
    }
    const session = await this.api.hijack('POST', `/exec/${Id}/start`, { body: { Detach: false, Tty: opts.tty } });
    await this.pipe(session, opts.tty, opts.interactive);
    return (await this.api.json<{ ExitCode: number }>('GET', `/exec/${Id}/json`)).ExitCode ?? 0;
  }

  async runAttached(id: string, opts: { tty: boolean; interactive: boolean }): Promise<number> {
    const session = await this.api.hijack('POST', `/containers/${enc(id)}/attach`, {
      query: { stream: true, stdin: opts.interactive, stdout: true, stderr: true },
    });
    // `next-exit`: a wait on a container not yet started must not return at once.
    const exited = this.api.json<{ StatusCode: number }>('POST', `/containers/${enc(id)}/wait`, { query: { condition: 'next-exit' } })
      .then((r) => r.StatusCode);
    await this.startContainer(id);
    await this.pipe(session, opts.tty, opts.interactive);
    return exited;
  }

  /** Copies the caller's stdio to and from a hijacked stream until the container side closes. */
  private async pipe(session: { socket: Duplex; head: Buffer }, tty: boolean, interactive: boolean): Promise<void> {
    const { socket, head } = session;
    const stdin = this.stdio.stdin as NodeJS.ReadStream;
    const raw = tty && interactive && stdin.isTTY === true;
    if (raw) stdin.setRawMode(true);
    const onData = (b: Buffer) => socket.write(b);
    if (interactive) {
      stdin.on('data', onData);
      stdin.once('end', () => socket.end());
      stdin.resume();
    }
    try {
      const source = (async function* () { if (head.length) yield head; yield* socket as AsyncIterable<Buffer>; })();
      if (tty) for await (const chunk of source) this.stdio.stdout.write(chunk);
      else {
        for await (const f of demux(source)) (f.stream === 'stderr' ? this.stdio.stderr : this.stdio.stdout).write(f.data);
      }
    } finally {
      if (interactive) {
        stdin.off('data', onData);
        stdin.pause();
      }
      if (raw) stdin.setRawMode(false);
    }
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

/** `repo:tag` → [repo, tag]; a registry port is not a tag. */
export function splitRef(ref: string): [string, string | undefined] {
  const noDigest = ref.split('@')[0];
  const i = noDigest.lastIndexOf(':');
  return i > noDigest.lastIndexOf('/') ? [noDigest.slice(0, i), noDigest.slice(i + 1)] : [noDigest, undefined];
}

/**
 * Docker's stdcopy framing: an 8-byte header (stream type, 3 zero bytes,
 * big-endian length) before each chunk of stdout (1) or stderr (2).
 */
export async function* demux(source: AsyncIterable<Buffer | string>): AsyncGenerator<{ stream: 'stdout' | 'stderr'; data: Buffer }> {
  let buf = Buffer.alloc(0);
  for await (const chunk of source) {
    buf = Buffer.concat([buf, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    while (buf.length >= 8) {
      const len = buf.readUInt32BE(4);
      if (buf.length < 8 + len) break;
      const stream = buf[0] === 2 ? 'stderr' : 'stdout';
      yield { stream, data: buf.subarray(8, 8 + len) };
      buf = buf.subarray(8 + len);
    }
  }
}

async function* rawFrames(source: AsyncIterable<Buffer | string>): AsyncGenerator<{ stream: 'stdout'; data: Buffer }> {
  for await (const chunk of source) yield { stream: 'stdout', data: typeof chunk === 'string' ? Buffer.from(chunk) : chunk };
}

function splitTimestamp(stream: 'stdout' | 'stderr', line: string, timestamps: boolean): LogLine {
  if (!timestamps) return { stream, text: line };
  const sp = line.indexOf(' ');
  return sp < 0 ? { stream, text: line } : { stream, timestamp: line.slice(0, sp), text: line.slice(sp + 1) };
}

/** Reads a JSON-lines progress stream to its end; an in-band error fails it. */
async function followProgress(res: Readable, onProgress?: (line: string) => void): Promise<void> {
  let buf = '';
  const handle = (line: string) => {
    if (!line.trim()) return;
    const m = JSON.parse(line);
    if (m.error || m.errorDetail) throw new Error(m.errorDetail?.message ?? m.error);
    const text = m.stream ?? (m.status ? `${m.id ? `${m.id}: ` : ''}${m.status}${m.progress ? ` ${m.progress}` : ''}\n` : '');
    if (text && onProgress) onProgress(text);
  };
  for await (const chunk of res) {
    buf += chunk.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      handle(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  }
  handle(buf);
}
