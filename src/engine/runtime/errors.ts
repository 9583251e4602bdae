import { BerthError, InvalidArgument } from '../../common/errors.js';

/**
 * The OCI runtime refused to start the process. `exitCode` is what Docker
 * reports for it: 127 when the executable does not exist, 126 when it cannot
 * be executed, 128 otherwise. The message keeps runc's words, e.g.
 * `exec: "nosuch": executable file not found in $PATH`.
 */
export class StartFailed extends BerthError {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

/** The command does not exist in the container (Docker exit code 127, HTTP 400). */
export class CommandNotFound extends InvalidArgument {
  readonly exitCode = 127;
}

/** The command exists but cannot be executed (Docker exit code 126, HTTP 400). */
export class CommandNotExecutable extends InvalidArgument {
  readonly exitCode = 126;
}

/**
 * Turns runc's/crun's error output (a logrus line, a JSON log record or plain
 * text) into a typed error carrying Docker's exit code.
 *
 *   runtimeError('create', 'time="…" level=error msg="runc create failed: … exec: \\"x\\": executable file not found in $PATH"')
 *   // → CommandNotFound('OCI runtime create failed: runc create failed: … executable file not found in $PATH: unknown')
 */
export function runtimeError(op: 'create' | 'exec' | 'start', raw: string): BerthError {
  const msg = runtimeMessage(raw);
  const full = `OCI runtime ${op} failed: ${msg}: unknown`;
  if (/executable file not found|no such file or directory/.test(msg) && /exec:|starting container process|start container process/.test(msg)) {
    return new CommandNotFound(full);
  }
  if (/permission denied/.test(msg) && /exec:|start container process|starting container process/.test(msg)) {
    return new CommandNotExecutable(full);
  }
  return new StartFailed(full, 128);
}

/** Extracts the human message from runc/crun stderr or --log output. */
export function runtimeMessage(raw: string): string {
  const lines = raw.split('\n').map((l) => l.trim()).filter(Boolean);
  const messages: string[] = [];
  for (const line of lines) {
    if (line.startsWith('{')) {
      try {
        const rec = JSON.parse(line);
        if (rec.level === 'error' || rec.level === 'fatal') messages.push(String(rec.msg));
        continue;
      } catch { /* not JSON after all */ }
    }
    const m = /level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"/.exec(line);
    if (m) messages.push(m[1].replace(/\\(.)/g, '$1'));
    else if (!/level=(?:info|debug|warning)/.test(line)) messages.push(line);
  }
  return (messages.length ? messages[messages.length - 1] : raw.trim()) || 'unknown error';
}
