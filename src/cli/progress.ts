import type { Readable } from 'node:stream';
import type { EngineClient } from '../client/index.js';
import { registryAuthHeader } from './docker-config.js';

/**
 * Prints a JSON-lines progress stream (pull, push, load, import) as the docker
 * CLI does. Not on a terminal: one line per status change, `stream` text
 * verbatim, byte counts left out. On a terminal (`tty`): one line per layer,
 * rewritten in place with its bar as messages arrive. Errors in the stream throw.
 */
export async function printProgress(client: EngineClient, res: Readable, write: (s: string) => void, tty = false): Promise<any[]> {
  const all: any[] = [];
  const lastStatus = new Map<string, string>();
  const lines = new Map<string, number>();
  for await (const m of client.jsonLines(res)) {
    all.push(m);
    if (typeof m.stream === 'string') { write(m.stream); continue; }
    if (typeof m.status !== 'string') continue;
    const id = typeof m.id === 'string' ? m.id : '';
    if (tty) {
      const isProgress = id && (m.progressDetail !== undefined || typeof m.progress === 'string');
      if (!isProgress) {
        // Something not about a layer: later layers (pull -a's next tag) start a fresh block.
        lines.clear();
        write(`\x1b[2K\r${id ? `${id}: ` : ''}${m.status}\n`);
        continue;
      }
      let line = lines.get(id);
      if (line === undefined) {
        line = lines.size;
        lines.set(id, line);
        write('\n');
      }
      const up = lines.size - line;
      write(`\x1b[${up}A\x1b[2K\r${id}: ${m.status}${m.progress ? ` ${m.progress}` : ''}\r\x1b[${up}B`);
      continue;
    }
    if (m.progressDetail && Object.keys(m.progressDetail).length && lastStatus.get(id) === m.status) continue;
    lastStatus.set(id, m.status);
    write(id ? `${id}: ${m.status}\n` : `${m.status}\n`);
  }
  return all;
}

/**
 * `POST /images/create?fromImage=` (a pull) with the stored credentials for
 * the image's registry; progress written by `write`. No tag pulls every tag.
 */
export async function pullImage(client: EngineClient, name: string, tag: string | undefined, write: (s: string) => void, platform?: string, tty = false): Promise<void> {
  const headers = await registryAuthHeader(process.env, name);
  const res = await client.request('POST', '/images/create', { query: { fromImage: name, tag, platform }, headers });
  await printProgress(client, res, write, tty);
}

/** `POST /images/{name}/push?tag=`; no tag pushes every tag of the repository. */
export async function pushImage(client: EngineClient, name: string, tag: string | undefined, write: (s: string) => void, tty = false): Promise<any[]> {
  const headers = await registryAuthHeader(process.env, name);
  const res = await client.request('POST', `/images/${name}/push`, { query: { tag }, headers });
  return printProgress(client, res, write, tty);
}
