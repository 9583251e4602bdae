import { promises as fs } from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { log } from '../common/log.js';
import { readJson, writeJsonAtomic } from '../common/atomic-file.js';
import { Router } from '../api/router.js';
import { createApiServer, listen, parseListenAddress } from '../api/server.js';
import { registerContainerRoutes } from '../api/routes/containers.js';
import { registerExecRoutes } from '../api/routes/exec.js';
import { registerSystemRoutes } from '../api/routes/system.js';
import { EventBus } from '../engine/events/bus.js';
import { ContainerStore } from '../engine/containers/store.js';
import { ContainerService } from '../engine/containers/service.js';
import { raceTimeout } from '../engine/containers/waiters.js';
import { ArchiveRootfs } from './archive-rootfs.js';
import { ExecService } from '../engine/exec/service.js';
import { registerCommitRoutes } from '../api/routes/commit.js';
import { registerArchiveRoutes } from '../api/routes/archive.js';
import { registerStatsRoutes } from '../api/routes/stats.js';
import { registerSystemDfRoutes } from '../api/routes/system-df.js';
import { containerSizes, diskUsageSource } from './disk-usage.js';
import { registerUpdateRoutes } from '../api/routes/update.js';
import { StatsCollector } from '../engine/stats/collect.js';
import { containerCgroupPath, detectCgroupLayout } from '../engine/stats/cgroupfs.js';
import { detectHostCaps } from '../engine/resources/caps.js';
import { acquireDaemonLock } from './lock.js';
import { daemonInfo } from './info.js';
import type { DaemonOptions } from './options.js';
import { wireServices } from './wiring.js';
import { registerBuildRoutes } from '../api/routes/build.js';
import { BuildCache } from '../engine/build/cache-store.js';
import { ServiceBuildEngine } from '../engine/build/engine.js';
import { runBuild } from '../engine/build/executor.js';

export const BERTH_VERSION = '0.1.0';

export interface RunningDaemon {
  stop(): Promise<void>;
}

/**
 * Starts berthd: takes the data-root lock, opens the stores, reconciles
 * containers that ran while no daemon was up, and serves the API on every
 * `-H` address.
 */
export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  await fs.mkdir(opts.dataRoot, { recursive: true, mode: 0o711 });
  await fs.mkdir(opts.execRoot, { recursive: true, mode: 0o711 });
  const releaseLock = await acquireDaemonLock(path.join(opts.dataRoot, 'berthd.lock'));
  try {
    if (opts.pidfile) await fs.writeFile(opts.pidfile, `${process.pid}\n`);
    const engineId = await daemonId(opts.dataRoot);
    const events = new EventBus();
    const store = new ContainerStore(path.join(opts.dataRoot, 'containers'));
    await store.load();
    const wired = await wireServices(opts, events, store);
    const containers = new ContainerService({ store, rootfs: wired.rootfs, runtime: wired.runtime, buildSpec: wired.buildSpec, events, volumes: wired.volumes, network: wired.network });
    const execs = new ExecService(containers, wired.runtime, wired.rootfs);

    const router = new Router();
    registerSystemRoutes(router, events, {
      version: BERTH_VERSION,
      info: () => daemonInfo({
        id: engineId, version: BERTH_VERSION, dataRoot: opts.dataRoot, runtime: wired.runtimeName, containers: store,
        imageCount: wired.imageCount, insecureRegistries: opts.insecureRegistries, warnings: () => wired.warnings,
      }),
    });
    registerContainerRoutes(router, { containers, execs, ancestorIds: wired.ancestorIds, sizes: containerSizes(wired.images, wired.containerRootfs) });
    registerExecRoutes(router, execs);
    wired.registerRoutes(router);
    registerCommitRoutes(router, containers, wired.containerRootfs);
    const buildTmp = path.join(opts.dataRoot, 'tmp');
    const buildEngine = new ServiceBuildEngine(wired.images, containers, wired.containerRootfs, buildTmp);
    const buildCache = await BuildCache.open(path.join(opts.dataRoot, 'build'));
    await buildCache.prune((id) => buildEngine.exists(id));
    registerBuildRoutes(router, {
      tmpRoot: buildTmp,
      build: (context, o, out) => runBuild({ engine: buildEngine, cache: buildCache, context, out }, o),
    });
    registerSystemDfRoutes(router, diskUsageSource(wired.images, store, wired.containerRootfs, wired.volumes));
    // A stopped container's rootfs is mounted only for the requests that use it.
    const archiveRootfs = new ArchiveRootfs({
      mount: (id) => wired.rootfs.mountContainer(id),
      unmount: (id) => wired.rootfs.unmountContainer(id).catch(() => undefined),
      running: (id) => !!store.find(id)?.State.Running,
    });
    registerArchiveRoutes(router, {
      async rootfsOf(ref) {
        const rec = store.get(ref);
        const { rootfs, release } = await archiveRootfs.hold(rec.Id);
        return { rootfs, mounts: rec.Mounts ?? [], user: rec.Config.User, readonlyRootfs: !!rec.HostConfig.ReadonlyRootfs, release };
      },
    });
    const layout = await detectCgroupLayout();
    registerStatsRoutes(router, {
      collector: new StatsCollector(layout),
      target(ref) {
        const rec = store.get(ref);
        return { id: rec.Id, name: rec.Name, pid: rec.State.Running ? rec.State.Pid : 0, cgroupPath: containerCgroupPath(rec.Id) };
      },
    });
    registerUpdateRoutes(router, {
      layout, caps: await detectHostCaps(layout),
      target(ref) {
        const rec = store.get(ref);
        return { id: rec.Id, running: rec.State.Running && !rec.State.Restarting, hostConfig: rec.HostConfig, cgroupPath: containerCgroupPath(rec.Id) };
      },
      async saveHostConfig(id, hostConfig) {
        const rec = store.get(id);
        rec.HostConfig = hostConfig;
        await store.save(rec);
      },
    });

    await containers.reconcile();

    const servers: http.Server[] = [];
    for (const host of opts.hosts) {
      const server = createApiServer(router);
      await listen(server, host);
      servers.push(server);
      log.info('daemon', `API listening on ${host}`);
    }
    log.info('daemon', `berthd ${BERTH_VERSION} ready`, { dataRoot: opts.dataRoot, execRoot: opts.execRoot, runtime: wired.runtimeName });
    return {
      async stop() {
        await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        })));
        for (const host of opts.hosts) {
          const a = parseListenAddress(host);
          if (a.kind === 'unix') await fs.rm(a.path, { force: true });
        }
        // Cleanups clients no longer wait for (removed containers' layers) finish before we go.
        await raceTimeout(containers.drain(), 10_000);
        await wired.close();
        if (opts.pidfile) await fs.rm(opts.pidfile, { force: true });
        await releaseLock();
      },
    };
  } catch (err) {
    await releaseLock();
    throw err;
  }
}

/** A stable engine ID per data root, as Docker reports under `ID`. */
async function daemonId(dataRoot: string): Promise<string> {
  const file = path.join(dataRoot, 'engine-id.json');
  const existing = await readJson<{ id: string }>(file);
  if (existing?.id) return existing.id;
  const id = randomUUID();
  await writeJsonAtomic(file, { id });
  return id;
}
