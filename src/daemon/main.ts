import { errorMessage } from '../common/errors.js';
import { log, setLogLevel } from '../common/log.js';
import { parseDaemonOptions } from './options.js';
import { startDaemon } from './daemon.js';

/** berthd entry point: parse flags, start, and exit cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const opts = parseDaemonOptions(process.argv.slice(2));
  setLogLevel(opts.logLevel);
  const daemon = await startDaemon(opts);
  let stopping = false;
  const shutdown = (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info('daemon', `received ${sig}: shutting down (containers keep running)`);
    daemon.stop().then(() => process.exit(0), (err) => {
      log.error('daemon', 'shutdown failed', { error: errorMessage(err) });
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`berthd: ${errorMessage(err)}\n`);
  process.exit(1);
});
