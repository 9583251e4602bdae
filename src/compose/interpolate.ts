/**
 * Variable substitution as compose does it, on string values (never keys):
 * `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`,
 * `${VAR?err}`, `${VAR:+alt}`, `${VAR+alt}` and `$$` for a literal `$`.
 * Defaults and alternatives may themselves hold substitutions.
 *
 *   interpolate('${TAG:-latest}', { }) // → 'latest'
 */
export type Env = Record<string, string | undefined>;

/** A substitution that cannot be done; the loader adds file and line. */
export class InterpolationError extends Error {
  override name = 'InterpolationError';
}

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;

export function interpolate(text: string, env: Env): string {
  if (!text.includes('$')) return text;
  const [out, end] = substitute(text, 0, env, false);
  if (end !== text.length) throw invalid(text);
  return out;
}

function invalid(text: string): InterpolationError {
  return new InterpolationError(`invalid interpolation format in "${text}": you may need to escape any $ with another $`);
}

/**
 * Expands from `i` to the end of `text`, or, inside braces (`nested`), up to
 * the `}` that closes the current substitution. Returns the text and the
 * index where it stopped.
 */
function substitute(text: string, i: number, env: Env, nested: boolean): [string, number] {
  let out = '';
  while (i < text.length) {
    const c = text[i];
    if (nested && c === '}') return [out, i];
    if (c !== '$') { out += c; i++; continue; }
    const next = text[i + 1];
    if (next === '$') { out += '$'; i += 2; continue; }
    if (next === '{') {
      const [value, end] = braced(text, i + 2, env);
      out += value;
      i = end;
      continue;
    }
    const m = NAME.exec(text.slice(i + 1));
    if (!m) throw invalid(text);
    out += env[m[0]] ?? '';
    i += 1 + m[0].length;
  }
  if (nested) throw invalid(text);
  return [out, i];
}

/** Handles `${...}` starting just after the brace; returns its value and the index after `}`. */
function braced(text: string, i: number, env: Env): [string, number] {
  const m = NAME.exec(text.slice(i));
  if (!m) throw invalid(text);
  const name = m[0];
  i += name.length;
  if (text[i] === '}') return [env[name] ?? '', i + 1];
  const colon = text[i] === ':';
  if (colon) i++;
  const op = text[i];
  if (op !== '-' && op !== '?' && op !== '+') throw invalid(text);
  const [arg, end] = substitute(text, i + 1, env, true);
  const value = env[name];
  const missing = colon ? value === undefined || value === '' : value === undefined;
  let result: string;
  if (op === '-') result = missing ? arg : (value as string);
  else if (op === '+') result = missing ? '' : arg;
  else {
    if (missing) {
      throw new InterpolationError(`required variable ${name} is missing a value${arg ? `: ${arg}` : ''}`);
    }
    result = value as string;
  }
  return [result, end + 1];
}

/**
 * Interpolates every string in a parsed YAML value. `onError` receives the
 * path of the failing value so the caller can name the line.
 */
export function interpolateTree(value: unknown, env: Env, path: (string | number)[] = [],
  onError: (path: (string | number)[], err: InterpolationError) => never = (_p, e) => { throw e; }): unknown {
  if (typeof value === 'string') {
    try {
      return interpolate(value, env);
    } catch (err) {
      if (err instanceof InterpolationError) onError(path, err);
      throw err;
    }
  }
  if (Array.isArray(value)) return value.map((v, k) => interpolateTree(v, env, [...path, k], onError));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateTree(v, env, [...path, k], onError);
    return out;
  }
  return value;
}
