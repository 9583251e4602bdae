import type { Router } from '../api/router.js';
import type { EventBus } from '../engine/events/bus.js';
import type { RootfsPort, RuntimePort, SpecBuilder } from '../engine/containers/ports.js';
import type { DaemonOptions } from './options.js';

/** The services behind the container lifecycle, built for one daemon. */
export interface WiredServices {
  rootfs: RootfsPort;
  runtime: RuntimePort;
  buildSpec: SpecBuilder;
  runtimeName: string;
  imageCount: () => Promise<number>;
  ancestorIds: (ref: string) => Set<string>;
  registerRoutes: (r: Router) => void;
  warnings: string[];
  close: () => Promise<void>;
}

export async function wireServices(
  _opts: DaemonOptions,
  _events: EventBus,
  _imageUser: (imageId: string) => { id: string; running: boolean } | undefined,
): Promise<WiredServices> {
  throw new Error('image store and runtime are not wired yet');
}
