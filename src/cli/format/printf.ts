import { fmtValue } from './gotemplate.js';

/**
 * Go's fmt.Sprintf for the verbs templates use: %v %s %q %d %t %f %e %g %x %X
 * %c %%, with flags (-, 0, +, space), width and precision. Missing operands
 * render as Go does: `%!d(MISSING)`.
 */
export function goPrintf(format: string, args: unknown[]): string {
  let out = '';
  let ai = 0;
  const re = /%([-+ 0#]*)(\d+|\*)?(?:\.(\d+|\*))?([a-zA-Z%])/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(format))) {
    out += format.slice(last, m.index);
    last = re.lastIndex;
    const [, flags, w, p, verb] = m;
    if (verb === '%') { out += '%'; continue; }
    const width = w === '*' ? Number(args[ai++]) : w ? Number(w) : 0;
    const prec = p === '*' ? Number(args[ai++]) : p !== undefined ? Number(p) : undefined;
    if (ai >= args.length) { out += `%!${verb}(MISSING)`; continue; }
    const a = args[ai++];
    out += pad(verbString(verb, a, prec, flags), width, flags);
  }
  out += format.slice(last);
  if (ai < args.length) {
    out += '%!(EXTRA ' + args.slice(ai).map((a) => `${typeName(a)}=${fmtValue(a)}`).join(', ') + ')';
  }
  return out;
}

function verbString(verb: string, a: unknown, prec: number | undefined, flags: string): string {
  const sign = (n: number, s: string) => (n >= 0 && flags.includes('+') ? '+' + s : n >= 0 && flags.includes(' ') ? ' ' + s : s);
  switch (verb) {
    case 'v': return fmtValue(a);
    case 's': { const s = fmtValue(a); return prec !== undefined ? [...s].slice(0, prec).join('') : s; }
    case 'q': return typeof a === 'number' ? `'${String.fromCodePoint(a)}'` : JSON.stringify(fmtValue(a));
    case 't': return typeof a === 'boolean' ? String(a) : `%!t(${typeName(a)}=${fmtValue(a)})`;
    case 'd': return typeof a === 'number' && Number.isInteger(a) ? sign(a, String(a)) : `%!d(${typeName(a)}=${fmtValue(a)})`;
    case 'c': return typeof a === 'number' ? String.fromCodePoint(a) : `%!c(${typeName(a)}=${fmtValue(a)})`;
    case 'x':
    case 'X': {
      let s: string;
      if (typeof a === 'number') s = a.toString(16);
      else s = Buffer.from(fmtValue(a)).toString('hex');
      return verb === 'X' ? s.toUpperCase() : s;
    }
    case 'f':
    case 'F': return typeof a === 'number' ? sign(a, a.toFixed(prec ?? 6)) : `%!f(${typeName(a)}=${fmtValue(a)})`;
    case 'e': return typeof a === 'number' ? sign(a, goExp(a.toExponential(prec ?? 6))) : `%!e(${typeName(a)}=${fmtValue(a)})`;
    case 'g': return typeof a === 'number' ? sign(a, prec !== undefined ? String(Number(a.toPrecision(prec))) : String(a)) : `%!g(${typeName(a)}=${fmtValue(a)})`;
    default: return `%!${verb}(${typeName(a)}=${fmtValue(a)})`;
  }
}

/** Go writes exponents with at least two digits: 1e+06. */
function goExp(s: string): string {
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

function pad(s: string, width: number, flags: string): string {
  const len = [...s].length;
  if (len >= width) return s;
  if (flags.includes('-')) return s + ' '.repeat(width - len);
  if (flags.includes('0') && /^[+-]?\d/.test(s)) {
    const signCh = /^[+-]/.test(s) ? s[0] : '';
    return signCh + '0'.repeat(width - len) + s.slice(signCh.length);
  }
  return ' '.repeat(width - len) + s;
}

function typeName(a: unknown): string {
  if (a === null || a === undefined) return '<nil>';
  if (typeof a === 'number') return Number.isInteger(a) ? 'int' : 'float64';
  if (typeof a === 'string') return 'string';
  if (typeof a === 'boolean') return 'bool';
  if (Array.isArray(a)) return '[]interface {}';
  return 'map[string]interface {}';
}
