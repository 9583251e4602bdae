import * as http from 'node:http';
import type { Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** One request as the fake daemon saw it. */
export interface Seen { method: string; path: string; query: Record<string, string>; params: URLSearchParams; body: any; raw: Buffer; upgrade: boolean }

export type FakeHandler = (req: Seen, res: http.ServerResponse | null, socket: Socket | null) => void | Promise<void>;

/**
 * A tiny Engine API stand-in on a temp unix socket: records every request
 * (path without the `/vX.Y` prefix) and lets a test answer each one, including
 * hijacked (upgraded) attach/exec connections.
 */
export class FakeDaemon {
  readonly dir = mkdtempSync(join(tmpdir(), 'berth-cli-fake-'));
  readonly socketPath = join(this.dir, 'd.sock');
  readonly seen: Seen[] = [];
  readonly versions: string[] = [];
  private server: http.Server;
  private sockets = new Set<Socket>();

  constructor(private readonly handle: FakeHandler) {
    this.server = http.createServer((req, res) => void this.dispatch(req, res, null));
    this.server.on('upgrade', (req, socket: Socket) => void this.dispatch(req, null, socket));
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(this.socketPath, r));
  }

  get host(): string {
    return `unix://${this.socketPath}`;
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse | null, socket: Socket | null): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    let path = url.pathname;
    const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
    if (m) { this.versions.push(m[1]); path = m[2]; }
    const chunks: Buffer[] = [];
    if (!socket) for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const text = raw.toString();
    let body: any = text;
    try { body = text ? JSON.parse(text) : undefined; } catch { /* raw */ }
    const seen: Seen = { method: req.method ?? '', path, query: Object.fromEntries(url.searchParams), params: url.searchParams, body, raw, upgrade: !!socket };
    this.seen.push(seen);
    try {
      await this.handle(seen, res, socket);
    } catch (e) {
      res?.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message: String(e) }));
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Answers JSON with a status, with Docker's headers. */
export function reply(res: http.ServerResponse | null, status: number, value?: unknown): void {
  if (!res) return;
  if (value === undefined) { res.writeHead(status, { 'Api-Version': '1.43' }).end(); return; }
  res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.43' }).end(JSON.stringify(value));
}

/** Completes a hijack with Docker's 101 answer. */
export function switchProtocols(socket: Socket): void {
  socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
}

const BIN = fileURLToPath(new URL('../../../bin/berth', import.meta.url));

/** Runs the real `berth` binary against `host`, feeding `stdin`. */
export function runBerth(host: string | null, args: string[], stdin?: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...(host ? ['-H', host] : []), ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`berth ${args.join(' ')} timed out; stderr: ${stderr}`)); }, 15_000);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    if (stdin !== undefined) child.stdin.end(stdin);
    else child.stdin.end();
  });
}
