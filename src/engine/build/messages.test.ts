import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messages, runFailedMessage } from './messages.js';
import { parseStages } from './dockerfile/instructions.js';
import { planBuild } from './plan.js';

const id = 'sha256:3161b6d9ed0e4a1f5c2b7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f9012345';

test('progress lines match the classic builder', () => {
  assert.equal(messages.imageId(id), ' ---> 3161b6d9ed0e\n');
  assert.equal(messages.usingCache(), ' ---> Using cache\n');
  assert.equal(messages.runningIn('701da73cbfdb0123456789'), ' ---> Running in 701da73cbfdb\n');
  assert.equal(messages.removingIntermediate('701da73cbfdb0123456789'), 'Removing intermediate container 701da73cbfdb\n');
  assert.equal(messages.successfullyBuilt(id), 'Successfully built 3161b6d9ed0e\n');
  assert.equal(messages.successfullyTagged('my_image:latest'), 'Successfully tagged my_image:latest\n');
  assert.equal(messages.executingTriggers(1), '# Executing 1 build trigger\n');
});

test('a failing RUN names its command as Docker does, for shell and exec form', () => {
  const plan = planBuild(parseStages('FROM busybox\nRUN false\nRUN ["/bin/false", "x"]\n'), { baseConfigs: new Map([['busybox', {}]]) });
  const [shell, exec] = plan.steps.filter((s) => s.kind === 'run') as { argv: string[] }[];
  assert.equal(runFailedMessage(shell, 1), "The command '/bin/sh -c false' returned a non-zero code: 1");
  assert.equal(runFailedMessage(exec, 2), "The command '/bin/false x' returned a non-zero code: 2");
});
