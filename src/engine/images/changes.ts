import { InvalidArgument } from '../../common/errors.js';
import type { ContainerConfig } from '../containers/types.js';

/**
 * Applies `docker import -c` / `commit -c` changes (Dockerfile instructions
 * that only touch the config) to a container config, returning a new one.
 *
 *   applyChanges({}, ['CMD ["sh"]', 'ENV A=1 B=2', 'EXPOSE 80'])
 */
export function applyChanges(base: ContainerConfig, changes: string[]): ContainerConfig {
  const c: ContainerConfig = structuredClone(base);
  for (const line of changes) {
    const text = line.trim();
    if (!text) continue;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(text)!;
    const instr = m[1].toUpperCase();
    const rest = m[2].trim();
    switch (instr) {
      case 'CMD': c.Cmd = commandForm(rest, instr); break;
      case 'ENTRYPOINT': c.Entrypoint = commandForm(rest, instr); break;
      case 'ENV': for (const [k, v] of keyValues(rest, instr)) setEnv(c, k, v); break;
      case 'LABEL': c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(keyValues(rest, instr)) }; break;
      case 'WORKDIR': c.WorkingDir = requireArg(rest, instr); break;
      case 'USER': c.User = requireArg(rest, instr); break;
      case 'STOPSIGNAL': c.StopSignal = requireArg(rest, instr); break;
      case 'EXPOSE':
        c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
        for (const p of words(requireArg(rest, instr))) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw new InvalidArgument(`invalid containerPort: ${p}`);
          c.ExposedPorts[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        break;
      case 'VOLUME': {
        const list = rest.startsWith('[') ? jsonArray(rest, instr) : words(requireArg(rest, instr));
        c.Volumes = { ...(c.Volumes ?? {}) };
        for (const v of list) c.Volumes[v] = {};
        break;
      }
      case 'ONBUILD': c.OnBuild = [...(c.OnBuild ?? []), requireArg(rest, instr)]; break;
      default:
        throw new InvalidArgument(`${m[1]} is not a valid change command`);
    }
  }
  return c;
}

function requireArg(rest: string, instr: string): string {
  if (!rest) throw new InvalidArgument(`${instr} requires at least one argument`);
  return unquote(rest);
}

/** JSON array form runs as given; anything else is a shell command line. */
function commandForm(rest: string, instr: string): string[] {
  if (rest.startsWith('[')) {
    try { return jsonArray(rest, instr); } catch { /* not JSON: shell form, as Docker falls back */ }
  }
  return ['/bin/sh', '-c', requireArg(rest, instr)];
}

function jsonArray(rest: string, instr: string): string[] {
  let v: unknown;
  try { v = JSON.parse(rest); } catch { throw new InvalidArgument(`${instr}: invalid JSON array: ${rest}`); }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new InvalidArgument(`${instr}: expected a JSON array of strings: ${rest}`);
  return v;
}

/** Splits on blanks outside quotes and removes the quotes. */
function words(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  let any = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      if (ch === quote) quote = '';
      else if (ch === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") { quote = ch; any = true; }
    else if (ch === '\\' && i + 1 < s.length) { cur += s[++i]; any = true; }
    else if (/\s/.test(ch)) { if (cur || any) out.push(cur); cur = ''; any = false; }
    else { cur += ch; any = true; }
  }
  if (quote) throw new InvalidArgument(`unmatched quote in: ${s}`);
  if (cur || any) out.push(cur);
  return out;
}

function unquote(s: string): string {
  const w = words(s);
  return w.length === 1 ? w[0] : s;
}

/** `ENV k=v k2=v2` or the old `ENV k some value`. */
function keyValues(rest: string, instr: string): Array<[string, string]> {
  if (!rest) throw new InvalidArgument(`${instr} requires at least one argument`);
  const w = words(rest);
  if (!w[0].includes('=')) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(rest.trim());
    if (!m) throw new InvalidArgument(`${instr} ${w[0]}: must have two arguments`);
    return [[m[1], unquote(m[2].trim())]];
  }
  return w.map((kv) => {
    const i = kv.indexOf('=');
    if (i <= 0) throw new InvalidArgument(`${instr} names can not be blank: ${kv}`);
    return [kv.slice(0, i), kv.slice(i + 1)];
  });
}

function setEnv(c: ContainerConfig, k: string, v: string): void {
  const env = (c.Env ?? []).filter((e) => e.split('=')[0] !== k);
  env.push(`${k}=${v}`);
  c.Env = env;
}
