/**
 * The daemon's logger: one line per event on stderr, filtered by level.
 * `log.debug('runtime', 'spawned conmon', { pid })`
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
let threshold: number = order.info;

export function setLogLevel(level: string): void {
  if (!(level in order)) throw new Error(`invalid log level: ${level} (want debug, info, warn or error)`);
  threshold = order[level as LogLevel];
}

function emit(level: LogLevel, scope: string, msg: string, fields?: Record<string, unknown>): void {
  if (order[level] < threshold) return;
  const extra = fields ? ' ' + Object.entries(fields).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ') : '';
  process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${scope}] ${msg}${extra}\n`);
}

export const log = {
  /** Whether messages at `level` are written (to skip work that only feeds them). */
  enabled: (level: LogLevel) => order[level] >= threshold,
  debug: (scope: string, msg: string, f?: Record<string, unknown>) => emit('debug', scope, msg, f),
  info: (scope: string, msg: string, f?: Record<string, unknown>) => emit('info', scope, msg, f),
  warn: (scope: string, msg: string, f?: Record<string, unknown>) => emit('warn', scope, msg, f),
  error: (scope: string, msg: string, f?: Record<string, unknown>) => emit('error', scope, msg, f),
};
