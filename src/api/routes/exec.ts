import type { ExecCreateBody, ExecService } from '../../engine/exec/service.js';
import type { Router } from '../router.js';
import { hijack, pumpFramed, STDERR, STDOUT, streamContentType } from '../streams.js';

/** Routes for `exec`: create, start (hijacked stream), resize, inspect. */
export function registerExecRoutes(r: Router, execs: ExecService): void {
  r.post('/containers/:id/exec', async (c) => {
    const body = await c.body<ExecCreateBody>();
    c.json(201, { Id: execs.create(c.params.id, body) });
  });

  r.post('/exec/:id/start', async (c) => {
    const body = await c.body<{ Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null }>();
    const e = execs.get(c.params.id);
    const tty = body.Tty ?? e.ProcessConfig.tty;
    const proc = await execs.start(c.params.id, { tty, consoleSize: body.ConsoleSize });
    if (body.Detach) {
      proc.stdout.resume();
      proc.stderr?.resume();
      proc.stdin?.end();
      c.empty(200);
      return;
    }
    const sock = hijack(c, streamContentType(c, tty));
    if (proc.stdin && e.OpenStdin) {
      sock.pipe(proc.stdin);
    } else {
      proc.stdin?.end();
      sock.resume();
    }
    sock.on('error', () => undefined);
    const pumps = [pumpFramed(proc.stdout, sock, tty ? undefined : STDOUT)];
    if (proc.stderr) pumps.push(pumpFramed(proc.stderr, sock, STDERR));
    await Promise.all([...pumps, proc.exited]);
    sock.end();
  });

  r.post('/exec/:id/resize', async (c) => {
    await execs.resize(c.params.id, Number(c.query.get('h') ?? 0), Number(c.query.get('w') ?? 0));
    c.empty(200);
  });

  r.get('/exec/:id/json', (c) => {
    c.json(200, execs.inspect(c.params.id));
  });
}
