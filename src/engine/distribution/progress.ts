/**
 * The JSON progress messages pull and push stream to clients, shaped as the
 * Docker daemon writes them so the docker CLI draws its own bars from them.
 *
 *   const p = new LayerProgress(sink, 'a3ed95caeb02')
 *   p.status('Pulling fs layer')
 *   p.bytes('Downloading', 1_000_000, 2_217_000)   // throttled; carries the bar text
 */

export interface ProgressMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  aux?: Record<string, unknown>;
}

/** Where a pull or push reports; the API layer turns each message into one JSON line. */
export type ProgressSink = (m: ProgressMessage) => void;

/** Docker's units.HumanSize: decimal units, four significant digits (`2.217MB`, `512B`). */
export function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${Number(n.toPrecision(4))}${units[i]}`;
}

/** The bar text of a progress message: `[=====>      ]  1.2MB/2.217MB`. */
export function progressBar(current: number, total: number): string {
  if (total <= 0) return `${humanSize(current).padStart(8)}`;
  const filled = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  return `[${'='.repeat(filled)}>${' '.repeat(50 - filled)}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

/** Short ID shown per layer: the first 12 hex digits of a digest. */
export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** Progress of one layer (or blob), throttled so a fast transfer does not flood the client. */
export class LayerProgress {
  private last = 0;

  constructor(private readonly sink: ProgressSink, readonly id: string, private readonly intervalMs = 100) {}

  status(status: string): void {
    this.sink({ status, progressDetail: {}, id: this.id });
  }

  /** A byte count for `status`; sent at most every interval, and always when complete. */
  bytes(status: string, current: number, total: number): void {
    const now = Date.now();
    if (current < total && now - this.last < this.intervalMs) return;
    this.last = now;
    this.sink({ status, progressDetail: { current, total }, progress: progressBar(current, total), id: this.id });
  }
}
