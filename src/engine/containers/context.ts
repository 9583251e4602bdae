import type { EventBus } from '../events/bus.js';
import type { VolumeService } from '../volumes/service.js';
import type { AttachQueue } from './attach-queue.js';
import type { HealthMonitor } from './health.js';
import type { NetworkPort, RootfsPort, RuntimePort, SpecBuilder } from './ports.js';
import type { ContainerRecord } from './record.js';
import type { RestartManager } from './restart.js';
import type { ContainerRunState } from './run-state.js';
import type { ContainerStore } from './store.js';

export interface ContainerServiceDeps {
  store: ContainerStore;
  rootfs: RootfsPort;
  runtime: RuntimePort;
  buildSpec: SpecBuilder;
  events: EventBus;
  /** Mounts and volumes; without it containers get no mounts beyond the generated files. */
  volumes?: VolumeService;
  /** Networking; without it containers get a private namespace and generated files only. */
  network?: NetworkPort;
}

/**
 * What the parts of the container service (start.ts, exit.ts, lifecycle.ts,
 * removal.ts) share: the collaborators and the daemon's state of the runs.
 * ContainerService builds one and hands it to each.
 */
export interface ContainerContext {
  deps: ContainerServiceDeps;
  run: ContainerRunState;
  restarts: RestartManager;
  health: HealthMonitor;
  /** Attach requests of containers not started yet. */
  pendingAttach: AttachQueue;
  /** Publishes a container event (`die`, `destroy`, ...) with Docker's attributes. */
  emit(rec: ContainerRecord, action: string, extra?: Record<string, string>): void;
}

/** Publishes a container event with the attributes Docker sets: the labels, image and name, then `extra`. */
export function emitContainerEvent(events: EventBus, rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
  events.publish({
    Type: 'container', Action: action,
    Actor: { ID: rec.Id, Attributes: { ...(rec.Config.Labels ?? {}), image: rec.Config.Image ?? rec.Image, name: rec.Name.slice(1), ...extra } },
  });
}
