/**
 * Human-readable durations, sizes and timestamps exactly as the docker CLI
 * prints them (go-units' HumanDuration and HumanSizeWithPrecision).
 *
 *   humanDuration(17_000) // "17 seconds"
 *   humanSize(4_261_412)  // "4.26MB"
 */

/** go-units HumanDuration: "Less than a second", "About a minute", "3 hours", "2 weeks"... */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

/** "17 seconds ago" from a unix time in seconds. */
export function ago(unixSeconds: number, now = Date.now()): string {
  return `${humanDuration(now - unixSeconds * 1000)} ago`;
}

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** go-units HumanSizeWithPrecision(size, 3): decimal units, %.3g. */
export function humanSize(bytes: number, precision = 3): string {
  return unitSize(bytes, 1000, DECIMAL_UNITS, precision);
}

/** go-units BytesSize: binary units, %.4g ("3.84GiB"), as `info` prints memory. */
export function bytesSize(bytes: number): string {
  return unitSize(bytes, 1024, BINARY_UNITS, 4);
}

function unitSize(size: number, base: number, units: string[], precision: number): string {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return `${goG(size, precision)}${units[i]}`;
}

/** Go's %.Ng: N significant digits, trailing zeros dropped. */
function goG(v: number, precision: number): string {
  if (v === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(v)));
  if (exp < -4 || exp >= precision) {
    const [m, e] = v.toExponential(precision - 1).split('e');
    const mant = String(Number(m));
    const n = Number(e);
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  return String(Number(v.toPrecision(precision)));
}

/** Go's time.Time.String() for a unix time: "2026-11-27 19:26:59 +0000 UTC". */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const hh = String(Math.floor(Math.abs(off) / 60)).padStart(2, '0');
  const mm = String(Math.abs(off) % 60).padStart(2, '0');
  const zone = off === 0 ? 'UTC' : Intl.DateTimeFormat('en', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? '';
  return `${localIso(d).replace('T', ' ')} ${sign}${hh}${mm} ${zone}`;
}

function localIso(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** RFC3339 with nanoseconds fixed to 9 digits, as `events` and `logs -t` print. */
export function rfc3339NanoFixed(unixNanos: bigint): string {
  const ms = Number(unixNanos / 1_000_000n);
  const nanos = String(unixNanos % 1_000_000_000n).padStart(9, '0');
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`;
  return `${localIso(d)}.${nanos}${zone}`;
}

/**
 * Parses `--since`/`--until` values the way the docker CLI does before sending
 * them: a Go duration ("10m", "1h30m") relative to now, an RFC3339 or date
 * timestamp, or unix seconds ("1700000000" / "1700000000.5"). Returns the
 * daemon's form: unix seconds with optional fraction, as a string.
 */
export function parseTimestamp(value: string, now = Date.now()): string {
  if (value === '') return '';
  if (/^\d+(\.\d{1,9})?$/.test(value)) return value;
  const dur = parseGoDuration(value);
  if (dur !== undefined) return secondsString(now - dur);
  let s = value;
  // Date only, or no zone: docker reads those in local time.
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) s += 'T00:00:00';
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new Error(`invalid value for "since": failed to parse value as time or duration: "${value}"`);
  const frac = /\.(\d+)(?:Z|[+-]\d{2}:?\d{2})?$/.exec(s)?.[1];
  const secs = Math.floor(ms / 1000);
  return frac ? `${secs}.${frac.padEnd(9, '0').slice(0, 9)}` : String(secs);
}

function secondsString(ms: number): string {
  const secs = Math.floor(ms / 1000);
  const nanos = Math.round((ms - secs * 1000) * 1e6);
  return `${secs}.${String(nanos).padStart(9, '0')}`;
}

/** Go's time.ParseDuration ("300ms", "-1.5h", "2h45m"); undefined when it is not one. Result in ms. */
export function parseGoDuration(s: string): number | undefined {
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(s);
  if (!m) return s === '0' ? 0 : undefined;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const part of s.slice(m[1].length).matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * unit[part[2]];
  return m[1] === '-' ? -total : total;
}
