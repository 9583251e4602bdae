import type { Readable } from 'node:stream';
import type { EngineClient } from '../client/index.js';

/**
 * Prints a JSON-lines progress stream (pull, load, import) the way the docker
 * CLI does when output is not a terminal: one line per status change, `stream`
 * text verbatim, progress bars left out. Errors in the stream throw.
 */
export async function printProgress(client: EngineClient, res: Readable, write: (s: string) => void): Promise<any[]> {
  const all: any[] = [];
  const lastStatus = new Map<string, string>();
  for await (const m of client.jsonLines(res)) {
    all.push(m);
    if (typeof m.stream === 'string') { write(m.stream); continue; }
    if (typeof m.status !== 'string') continue;
    const id = typeof m.id === 'string' ? m.id : '';
    if (m.progressDetail && Object.keys(m.progressDetail).length && lastStatus.get(id) === m.status) continue;
    lastStatus.set(id, m.status);
    write(id ? `${id}: ${m.status}\n` : `${m.status}\n`);
  }
  return all;
}

/** `POST /images/create?fromImage=` (a pull), with progress written by `write`. */
export async function pullImage(client: EngineClient, name: string, tag: string, write: (s: string) => void, platform?: string): Promise<void> {
  const res = await client.request('POST', '/images/create', { query: { fromImage: name, tag, platform } });
  await printProgress(client, res, write);
}
