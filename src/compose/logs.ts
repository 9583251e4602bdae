import type { ComposeEngine, ContainerSummary } from './engine.js';
import { L } from './container-spec.js';
import { nameOf } from './plan.js';

const colours = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

export interface LogOptions {
  follow?: boolean;
  tail?: string;
  timestamps?: boolean;
  noColor?: boolean;
  /** docker-compose 1.x prefixes `web_1`; docker compose the full container name. */
  legacy?: boolean;
}

/**
 * Streams the logs of several containers into one output, each line
 * prefixed `name  | ` (padded to the longest name, coloured per container),
 * as `compose logs` and attached `up` do. Resolves when every stream ends.
 *
 *   await streamLogs(engine, containers, { follow: true }, (s) => process.stdout.write(s));
 */
export async function streamLogs(engine: ComposeEngine, containers: ContainerSummary[], opts: LogOptions,
  write: (text: string) => void, onEnd?: (c: ContainerSummary) => void): Promise<void> {
  const label = (c: ContainerSummary) => (opts.legacy ? legacyLabel(c) : nameOf(c));
  // docker-compose 1.x pads to the longest service name plus three (room for `_N`);
  // docker compose to the longest container name plus one.
  const width = opts.legacy
    ? Math.max(0, ...containers.map((c) => (c.Labels[L.service] ?? nameOf(c)).length)) + 3
    : Math.max(0, ...containers.map((c) => label(c).length)) + 1;
  await Promise.all(containers.map(async (c, i) => {
    const text = `${label(c).padEnd(width)} |`;
    const prefix = opts.noColor ? `${text} ` : `\x1b[${colours[i % colours.length]}m${text}\x1b[0m `;
    try {
      for await (const line of engine.logs(c.Id, { follow: opts.follow, tail: opts.tail, timestamps: opts.timestamps })) {
        const body = line.text.endsWith('\n') ? line.text : `${line.text}\n`;
        write(`${prefix}${opts.timestamps && line.timestamp ? `${line.timestamp} ` : ''}${body}`);
      }
    } finally {
      onEnd?.(c);
    }
  }));
}

/** `web_1` from `project_web_1`: docker-compose 1.x's name without the project. */
function legacyLabel(c: ContainerSummary): string {
  const s = c.Labels[L.service];
  const n = c.Labels[L.number];
  return s && n ? `${s}_${n}` : nameOf(c);
}
