/**
 * `berth registry serve|gc`. The berth CLI calls registerRegistryCommand(program).
 *
 *   berth registry serve --addr 127.0.0.1:5000 --root /srv/registry --htpasswd ./htpasswd
 *   berth registry gc --root /srv/registry
 */
import type { Command } from 'commander';
import { collectGarbage } from './gc.js';
import { RegistryServer } from './server.js';

const defaultRoot = '/var/lib/berth-registry';

export function registerRegistryCommand(program: Command): Command {
  const registry = program.command('registry').description('Run an OCI distribution registry');

  registry
    .command('serve')
    .description('Serve the registry API (OCI Distribution Spec v1.1, Docker Registry v2)')
    .option('--addr <host:port>', 'address to listen on', ':5000')
    .option('--root <dir>', 'storage directory', defaultRoot)
    .option('--htpasswd <file>', 'require basic auth against this bcrypt htpasswd file')
    .option('--tls-cert <file>', 'TLS certificate (PEM); needs --tls-key')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option('--read-only', 'refuse pushes and deletes', false)
    .action(async (o: { addr: string; root: string; htpasswd?: string; tlsCert?: string; tlsKey?: string; readOnly: boolean }) => {
      const srv = await RegistryServer.create({
        root: o.root, htpasswd: o.htpasswd, tlsCert: o.tlsCert, tlsKey: o.tlsKey, readOnly: o.readOnly,
      });
      const a = await srv.listen(o.addr);
      const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
      process.stdout.write(`registry listening on ${o.tlsCert ? 'https' : 'http'}://${host}:${a.port} (root ${o.root}${o.readOnly ? ', read-only' : ''})\n`);
      // The action resolves only once the server has stopped: callers such as
      // berth's main exit as soon as the command returns.
      await new Promise<void>((resolve) => {
        const stop = () => void srv.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  registry
    .command('gc')
    .description('Delete blobs no manifest references (stop the server or make it read-only first)')
    .option('--root <dir>', 'storage directory', defaultRoot)
    .option('--dry-run', 'only report what would be deleted', false)
    .option('-m, --delete-untagged', 'also delete manifests no tag refers to', false)
    .action(async (o: { root: string; dryRun: boolean; deleteUntagged: boolean }) => {
      const r = await collectGarbage(o.root, { dryRun: o.dryRun, deleteUntagged: o.deleteUntagged });
      const verb = o.dryRun ? 'would delete' : 'deleted';
      if (o.deleteUntagged) process.stdout.write(`${verb} ${r.manifestsDeleted} untagged manifests\n`);
      process.stdout.write(`${verb} ${r.blobsDeleted} blobs (${r.bytesFreed} bytes) and ${r.uploadsDeleted} stale uploads; kept ${r.kept} blobs\n`);
    });
  return registry;
}
