// Child process for the survival test: creates and starts one container in
// the given exec root, prints its id and conmon pid, then idles until killed.
import { ContainerRuntime } from '../../src/engine/runtime/runtime.js';
import { buildSpec } from '../../src/engine/runtime/spec.js';

const [execRoot, rootfs, logPath, id] = process.argv.slice(2);
const rt = await ContainerRuntime.open({ execRoot, runtime: 'runc' });
const { spec } = await buildSpec({
  id, rootfs, config: { Cmd: ['sh', '-c', 'for i in 1 2 3 4 5; do echo tick $i; sleep 0.3; done; exit 5'] }, hostConfig: {},
});
const res = await rt.create(id, { spec, logPath });
await rt.start(id);
process.stdout.write(JSON.stringify({ ...res, self: process.pid }) + '\n');
setInterval(() => {}, 1000);
