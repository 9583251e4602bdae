import { Command } from 'commander';
import { EngineClient } from '../client/index.js';

/** Ends a command with an exit code, optionally printing `message` on stderr first. */
export class CliExit extends Error {
  constructor(readonly code: number, message = '') {
    super(message);
    this.name = 'CliExit';
  }
}

/**
 * What every command needs: the Engine API client for the chosen host, and
 * the process streams. One per `berth` invocation; the client is made lazily
 * so `--help` never touches the daemon.
 *
 *   const list = await ctx.client().json('GET', '/containers/json');
 */
export class CliContext {
  private engine: EngineClient | undefined;
  constructor(private readonly program: Command, readonly env: NodeJS.ProcessEnv = process.env) {}

  get host(): string {
    return EngineClient.hostFromEnv(this.program.opts().host as string | undefined, this.env);
  }

  client(): EngineClient {
    const host = this.host;
    // An early client made for another host (see negotiateEarly) is dropped.
    if (this.engine && this.engine.host !== host) this.close();
    this.engine ??= new EngineClient(host, { version: this.pinnedVersion() });
    return this.engine;
  }

  /**
   * Starts the API version negotiation (`/_ping`) with `host` before the
   * command line is parsed, so its round trip overlaps loading the command's
   * code instead of preceding the first real request. `client()` keeps this
   * client when the parsed host is the same one; a failure surfaces there, at
   * the first request, as it would have anyway.
   *
   *   ctx.negotiateEarly(hostInArgv ?? EngineClient.hostFromEnv(undefined, env));
   */
  negotiateEarly(host: string): void {
    if (this.engine || this.pinnedVersion()) return;
    this.engine = new EngineClient(host);
    this.engine.apiVersion().catch(() => undefined);
  }

  /** Like DOCKER_API_VERSION: pin the API version instead of negotiating. */
  private pinnedVersion(): string | undefined {
    return this.env.BERTH_API_VERSION || this.env.DOCKER_API_VERSION || undefined;
  }

  out(s: string): void {
    process.stdout.write(s);
  }

  err(s: string): void {
    process.stderr.write(s);
  }

  close(): void {
    this.engine?.close();
    this.engine = undefined;
  }
}

/** "berth container ls" for a (sub)command, as usage lines and hints name it. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
