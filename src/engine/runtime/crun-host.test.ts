import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crunRefusal } from './runtime.js';

const line = (id: number, mountPoint: string, fs: string) => `${id} 1 0:${id} / ${mountPoint} rw,nosuid - ${fs} ${fs} rw`;

test('crun is refused only on hybrid hosts whose cgroup2 hierarchy has controllers', () => {
  const hybrid = [line(30, '/sys/fs/cgroup', 'tmpfs'), line(31, '/sys/fs/cgroup/unified', 'cgroup2'), line(32, '/sys/fs/cgroup/memory', 'cgroup')].join('\n');
  const withHugetlb = crunRefusal(hybrid, () => 'hugetlb\n');
  assert.match(withHugetlb ?? '', /hybrid cgroup hosts whose cgroup2 hierarchy \(\/sys\/fs\/cgroup\/unified\) has controllers \(hugetlb\)/);
  assert.equal(crunRefusal(hybrid, () => '\n'), undefined, 'an empty cgroup2 hierarchy is fine');
  assert.equal(crunRefusal(line(31, '/sys/fs/cgroup', 'cgroup2'), () => 'cpu memory pids'), undefined, 'pure cgroup v2');
  assert.equal(crunRefusal([line(32, '/sys/fs/cgroup/memory', 'cgroup'), line(33, '/sys/fs/cgroup/cpu', 'cgroup')].join('\n'), () => ''), undefined, 'pure cgroup v1');
  assert.equal(crunRefusal(hybrid, () => { throw new Error('EACCES'); }), undefined, 'unreadable controllers count as none');
});
