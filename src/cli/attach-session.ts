import { DaemonError, readAll, type EngineClient } from '../client/index.js';
import { CliExit } from './cli-context.js';
import { UsageError } from './options/parse-values.js';
import { enterRawMode, followTerminalSize, proxySignals, pumpStreams } from './streams.js';

/**
 * The foreground life of a container as `run`, `start -a` and `attach` see it:
 * attach (hijacked) and a wait request, both in place before start so neither
 * output nor a fast exit is missed, start, then stream until the output ends
 * and answer the container's exit code.
 */
export interface SessionOptions {
  id: string;
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys?: string;
  sigProxy: boolean;
  /** `removed` when the daemon auto-removes the container (--rm). */
  condition: 'next-exit' | 'removed';
  /** Called instead of POST /start; omit for `attach` to a running container. */
  start?: () => Promise<void>;
}

export interface ExitWaiter {
  /** Resolves once the daemon has accepted the wait (headers arrived), or after a grace period. */
  armed: Promise<void>;
  code: Promise<number>;
}

/** `POST /containers/{id}/wait?condition=...`, split into "armed" and "exit code". */
export function waitForExit(client: EngineClient, id: string, condition: string): ExitWaiter {
  let arm!: () => void;
  const armed = new Promise<void>((r) => { arm = r; });
  // Docker flushes the wait response headers at once; a daemon that holds them
  // until exit must not stall us, so arming also gives up after a grace period.
  const grace = setTimeout(arm, 1000);
  const code = client.request('POST', `/containers/${encodeURIComponent(id)}/wait`, { query: { condition } }).then(async (res) => {
    clearTimeout(grace);
    arm();
    const text = (await readAll(res)).toString('utf8');
    const body = text.trim() ? JSON.parse(text) : {};
    if (body.Error?.Message) throw new CliExit(125, body.Error.Message);
    return Number(body.StatusCode ?? 0);
  });
  code.catch(() => { clearTimeout(grace); arm(); });
  return { armed, code };
}

export async function runSession(client: EngineClient, o: SessionOptions): Promise<number> {
  if (o.tty && o.stdin && !process.stdin.isTTY) throw new CliExit(1, 'the input device is not a TTY');
  const idPath = `/containers/${encodeURIComponent(o.id)}`;
  const attachAny = o.stdin || o.stdout || o.stderr;
  // Attach and wait are independent: set both up at once (one round trip, not
  // two), and start only when both are in place.
  const hijacking = attachAny
    ? client.hijack('POST', `${idPath}/attach`, {
      query: { stream: 1, stdin: o.stdin, stdout: o.stdout, stderr: o.stderr, detachKeys: o.detachKeys },
    })
    : Promise.resolve(undefined);
  const waiter = waitForExit(client, o.id, o.condition);
  const [hijacked] = await Promise.all([hijacking, waiter.armed]);

  const restoreTerm = o.tty && o.stdin ? enterRawMode() : () => undefined;
  const cleanups: (() => void)[] = [restoreTerm];
  try {
    if (o.start) {
      try {
        await o.start();
      } catch (e) {
        hijacked?.socket.destroy();
        throw e;
      }
    }
    if (o.tty) cleanups.push(followTerminalSize(({ h, w }) => client.request('POST', `${idPath}/resize`, { query: { h, w } }).then((r) => r.resume())));
    else if (o.sigProxy) cleanups.push(proxySignals((signal) => client.request('POST', `${idPath}/kill`, { query: { signal } }).then((r) => r.resume())));
    if (hijacked) {
      const how = await pumpStreams(hijacked, { tty: o.tty, stdin: o.stdin, detachKeys: o.detachKeys });
      if (how === 'detached') {
        waiter.code.catch(() => undefined);
        return 0;
      }
    }
    return await exitCodeAfterStream(client, o.id, waiter);
  } finally {
    for (const c of cleanups.reverse()) c();
  }
}

/**
 * The wait answer normally follows the end of the output; if it does not come
 * (a daemon that missed the exit), fall back to the container's recorded state.
 */
async function exitCodeAfterStream(client: EngineClient, id: string, waiter: ExitWaiter): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const fallback = new Promise<number>((resolve) => {
    const poll = async () => {
      try {
        const info = await client.json('GET', `/containers/${encodeURIComponent(id)}/json`);
        if (!info.State?.Running && !info.State?.Restarting) return resolve(Number(info.State?.ExitCode ?? 0));
      } catch (e) {
        if (e instanceof DaemonError && e.status === 404) return; // removed: the wait will say
      }
      timer = setTimeout(poll, 500);
    };
    timer = setTimeout(poll, 3000);
  });
  try {
    return await Promise.race([waiter.code, fallback]);
  } finally {
    clearTimeout(timer);
  }
}

/** Docker's mapping of a failed start to an exit code: 127 not found, 126 not executable, else 125. */
export function startFailureCode(message: string): number {
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(message)) return 127;
  if (/permission denied|is a directory/i.test(message)) return 126;
  return 125;
}

/** Validates `--detach-keys` early so a typo is a usage error, not a broken session. */
export function checkDetachKeys(spec: string | undefined, parse: (s: string) => number[]): void {
  if (spec === undefined) return;
  try {
    parse(spec);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
