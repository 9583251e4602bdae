import { EngineClient } from '../client/index.js';
import { contextTar } from '../cli/build-context.js';
import { ApiComposeEngine } from './api-engine.js';
import { runAsDockerPlugin } from './plugin.js';

// Entry point of bin/docker-compose, the docker CLI plugin: `docker compose up`.
await runAsDockerPlugin(process.argv.slice(2), (host) => new ApiComposeEngine(new EngineClient(host), (dir, o) => contextTar(dir, o)));
