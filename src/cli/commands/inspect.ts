import { DaemonError, type EngineClient } from '../../client/index.js';
import { CliExit, type CliContext } from '../cli-context.js';
import { compileTemplate } from '../format/gotemplate.js';
import type { CommandSpec } from './define.js';

type Kind = 'container' | 'image';
const enc = encodeURIComponent;

async function fetchObject(client: EngineClient, kind: Kind, ref: string, size: boolean): Promise<unknown> {
  return kind === 'container'
    ? client.json('GET', `/containers/${enc(ref)}/json`, { query: { size } })
    : client.json('GET', `/images/${ref}/json`);
}

/**
 * Prints objects as `docker inspect` does: a JSON array indented by 4 spaces,
 * or one line per object through `-f`. Missing objects are reported after the
 * output and make the exit code 1.
 */
async function inspectObjects(ctx: CliContext, refs: string[], kinds: Kind[], o: { format?: string; size?: boolean; type?: string }): Promise<number> {
  // Like docker inspect, no \t escapes here: only list formats (ps, images) expand them.
  const tmpl = o.format && o.format !== 'json' ? compileTemplate(o.format) : undefined;
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const ref of refs) {
    let obj: unknown;
    let notFound: DaemonError | undefined;
    for (const k of kinds) {
      try {
        obj = await fetchObject(ctx.client(), k, ref, !!o.size);
        break;
      } catch (e) {
        if (!(e instanceof DaemonError && e.status === 404)) throw e;
        notFound = e;
      }
    }
    if (obj === undefined) {
      // `inspect` names the object; `container inspect`/`image inspect` pass the daemon's words on.
      errors.push(kinds.length > 1 || !notFound ? `Error: No such object: ${ref}` : notFound.display);
      continue;
    }
    found.push(obj);
  }
  if (tmpl) for (const obj of found) ctx.out(`${tmpl.execute(obj)}\n`);
  else ctx.out(`${found.length ? JSON.stringify(found, null, 4) : '[]'}\n`);
  if (errors.length) throw new CliExit(1, errors.join('\n'));
  return 0;
}

const setup = (withSize: boolean, withType: boolean) => (c: import('commander').Command) => {
  c.option('-f, --format <string>', "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template");
  if (withSize) c.option('-s, --size', 'Display total file sizes');
  if (withType) c.option('--type <string>', 'Only inspect objects of the given type');
};

export const inspect: CommandSpec = {
  name: 'inspect', usage: '[OPTIONS] NAME|ID [NAME|ID...]', description: 'Return low-level information on Berth objects', args: { min: 1 },
  setup: setup(true, true),
  action: (ctx, args, o) => {
    let kinds: Kind[] = ['container', 'image'];
    if (o.type) {
      if (o.type !== 'container' && o.type !== 'image') throw new CliExit(1, `"${o.type}" is not a valid value for --type`);
      kinds = [o.type];
    }
    return inspectObjects(ctx, args, kinds, o);
  },
};

export const containerInspect: CommandSpec = {
  name: 'inspect', usage: '[OPTIONS] CONTAINER [CONTAINER...]', description: 'Display detailed information on one or more containers', args: { min: 1 },
  setup: setup(true, false),
  action: (ctx, args, o) => inspectObjects(ctx, args, ['container'], o),
};

export const imageInspect: CommandSpec = {
  name: 'inspect', usage: '[OPTIONS] IMAGE [IMAGE...]', description: 'Display detailed information on one or more images', args: { min: 1 },
  setup: setup(false, false),
  action: (ctx, args, o) => inspectObjects(ctx, args, ['image'], o),
};
