import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { BenchContext, WorkloadGroup } from '../context.js';
import { berthBin } from '../../test/helpers/daemon.js';
import { timeCommand, type Row, type Sample } from '../harness.js';

// The compose workload: 3 services on a bridge network, with links,
// a named volume, a published port and depends_on. Every process exits on
// SIGTERM, so `down` measures the tools, not a 10 s stop timeout.
const composeYaml = `services:
  db:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
    volumes: [data:/data]
    networks: [back]
  cache:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
    networks: [back]
  web:
    image: busybox
    command: ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 80 -h /data & wait"]
    links: ["db:mysql"]
    ports: ["127.0.0.1::80"]
    volumes: [data:/data]
    networks: [back]
    depends_on: [db, cache]
volumes:
  data:
networks:
  back:
    driver: bridge
`;

// Objects in the shared peer engine carry this prefix (bcomp_web_1, bcomp_back, bcomp_data).
const project = 'bcomp';

type Tool = (args: string[]) => Sample;

function upDown(rounds: number, tool: Tool): { up: Sample[]; down: Sample[] } {
  const up: Sample[] = [];
  const down: Sample[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      up.push(tool(['up', '-d']));
      down.push(tool(['down', '-v']));
    }
  } finally {
    // A failed round must not leave the project behind (in the peer least of all).
    try { tool(['down', '-v']); } catch { /* already down */ }
  }
  return { up, down };
}

async function composeUpDown(ctx: BenchContext): Promise<Row[]> {
  const dir = path.join(ctx.base, project);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'compose.yaml'), composeYaml);
  const berth: Tool = (a) => timeCommand(berthBin, ['compose', '-p', project, ...a],
    { cwd: dir, env: { ...process.env, BERTH_HOST: ctx.daemon.host } });
  const haveDockerCompose = spawnSync('docker-compose', ['version', '--short']).status === 0;
  const dockerCompose = (host: string): Tool => (a) => timeCommand('docker-compose', ['-p', project, ...a],
    { cwd: dir, env: { ...process.env, DOCKER_HOST: host, COMPOSE_PROJECT_NAME: '' } });

  const ours = upDown(ctx.rounds, berth);
  const theirsOnBerth = haveDockerCompose ? upDown(ctx.rounds, dockerCompose(ctx.daemon.host)) : undefined;
  const theirsOnPeer = haveDockerCompose && ctx.peer ? upDown(ctx.rounds, dockerCompose(ctx.peer)) : undefined;
  const note = 'berth column: berth compose → berthd; docker CLI→berth column: docker-compose 1.29 → berthd; peer: docker-compose 1.29 → peer';
  return [
    { workload: 'compose up -d (3 services)', berth: ours.up, dockerCli: theirsOnBerth?.up, peer: theirsOnPeer?.up, note },
    { workload: 'compose down -v (3 services)', berth: ours.down, dockerCli: theirsOnBerth?.down, peer: theirsOnPeer?.down, note },
  ];
}

export const composeWorkloads: WorkloadGroup[] = [
  { name: 'compose', describe: 'up -d then down -v of 3 services (network, links, named volume, port, depends_on): berth compose, docker-compose 1.29', run: composeUpDown },
];
