import { settleBoth } from '../../common/settle.js';
import { specInputFor } from './create.js';
import { writeStandaloneFiles } from './files.js';
import type { ContainerRecord } from './record.js';
import type { ContainerServiceDeps } from './service.js';
import type { SpecInput } from './ports.js';

/** What a start's preparation uses of the container service's collaborators. */
export type StartSpecDeps = Pick<ContainerServiceDeps, 'rootfs' | 'network' | 'store' | 'volumes' | 'buildSpec'>;

/**
 * The first half of a start, before the runtime is involved: the rootfs
 * mounted and the network set up side by side, then the OCI spec built from
 * both. `networkReady` resolves once the container's interfaces are up; the
 * spec only needs the namespace path, so the caller creates the container
 * meanwhile and waits for it before the process starts.
 *
 *   const { spec, networkReady } = await prepareStartSpec(deps, rec, lap);
 */
export async function prepareStartSpec(deps: StartSpecDeps, rec: ContainerRecord, lap: (what: string) => void): Promise<{ spec: object; networkReady?: Promise<void> }> {
  const [rootfs, net] = await settleBoth(
    deps.rootfs.mountContainer(rec.Id).finally(() => lap('rootfs mounted')),
    deps.network
      ? deps.network.setup(rec).finally(() => lap('network set up'))
      : writeStandaloneFiles(deps.store.dir(rec.Id), rec).then(() => undefined),
  );
  let network: SpecInput['network'] | undefined;
  let linkEnv: string[] = [];
  if (net) {
    rec.HostsPath = net.files.hosts;
    rec.ResolvConfPath = net.files.resolvConf;
    rec.HostnamePath = net.files.hostname;
    network = net.netnsPath ? { mode: 'path', path: net.netnsPath } : { mode: 'host' };
    linkEnv = net.env;
  }
  const input = specInputFor(rec, rootfs, (ref) => deps.store.get(ref), !!deps.network);
  if (network) input.network = network;
  // Link variables go to the process only: Docker does not show them in Config.Env.
  if (linkEnv.length) input.config = { ...input.config, Env: [...linkEnv, ...(input.config.Env ?? [])] };
  if (deps.volumes) input.mounts.push(...(await deps.volumes.specMounts(rec.Mounts ?? [], rootfs)));
  const spec = await deps.buildSpec(input);
  lap('spec built');
  return { spec, networkReady: net?.ready };
}
