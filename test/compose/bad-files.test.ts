import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { removeEverything, tempProject } from './project.js';

// Bad files are refused before anything is created, naming file, line and service.
let d: TestDaemon;
before(async () => { d = await startTestDaemon(); });
after(async () => {
  if (d) await removeEverything(d).catch(() => undefined);
  await d?.cleanup();
});

const good = `services:
  ok:
    image: busybox
    command: sleep 100
    volumes: [v:/v]
    networks: [n]
`;
const tail = 'volumes:\n  v:\nnetworks:\n  n:\n';

const cases: { name: string; file: string; message: RegExp }[] = [
  { name: 'invalid YAML', file: `${good}  bad:\n    image: busybox\n    ports: [80\n`, message: /compose\.yaml:(9|10): invalid YAML/ },
  { name: 'an unknown key', file: `${good}  bad:\n    image: busybox\n    portz: ["80"]\n`, message: /compose\.yaml:9: services\.bad additional properties 'portz' not allowed/ },
  { name: 'a mistyped value', file: `${good}  bad:\n    image: busybox\n    privileged: 3\n`, message: /compose\.yaml:9: services\.bad\.privileged must be a boolean/ },
  { name: 'neither image nor build', file: `${good}  bad:\n    command: "true"\n`, message: /compose\.yaml:7: service "bad" has neither an image nor a build context/ },
  { name: 'a depends_on cycle', file: `${good}  bad:\n    image: busybox\n    depends_on: [worse]\n  worse:\n    image: busybox\n    depends_on: [bad]\n`, message: /compose\.yaml:\d+: dependency cycle detected: (bad -> worse -> bad|worse -> bad -> worse)/ },
  { name: 'an undefined network', file: `${good}  bad:\n    image: busybox\n    networks: [nope]\n`, message: /compose\.yaml:9: service "bad" refers to undefined network nope/ },
  { name: 'an undefined volume', file: `${good}  bad:\n    image: busybox\n    volumes: ["nope:/x"]\n`, message: /compose\.yaml:9: service "bad" refers to undefined volume nope/ },
  { name: 'a required variable', file: `${good}  bad:\n    image: \${IMG:?set IMG to the image}\n`, message: /compose\.yaml:8: services\.bad\.image: required variable IMG is missing a value: set IMG to the image/ },
];

for (const c of cases) {
  test(`${c.name} is refused with file and line, and nothing is created`, async () => {
    const p = await tempProject(d, 'badapp', { 'compose.yaml': c.file + tail });
    try {
      const r = p.compose(['up', '-d'], { env: { IMG: '' } });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, c.message);
      assert.ok(r.stderr.includes(`${p.dir}/compose.yaml:`), r.stderr);
      assert.deepEqual((await d.api('GET', '/containers/json?all=1')).body, []);
      assert.deepEqual((await d.api('GET', '/volumes')).body.Volumes ?? [], []);
      assert.deepEqual(((await d.api('GET', '/networks')).body as { Name: string }[]).map((n) => n.Name).sort(), ['bridge', 'host', 'none']);
    } finally {
      await p.remove();
    }
  });
}
