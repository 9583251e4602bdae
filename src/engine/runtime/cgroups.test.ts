import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupMounts } from './cgroups.js';

describe('cgroupMounts', () => {
  it('finds split and co-mounted v1 controllers and cgroup2 wherever they are', () => {
    const hybrid = [
      '30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
      '32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct',
      '34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
      '35 30 0:32 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio',
      '39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
      '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
      '41 30 0:31 /nested /mnt/elsewhere rw,relatime - cgroup cgroup rw,memory',
    ].join('\n');
    const m = cgroupMounts(hybrid);
    assert.equal(m.get('cpu'), '/sys/fs/cgroup/cpu');
    assert.equal(m.get('cpuacct'), '/sys/fs/cgroup/cpuacct');
    assert.equal(m.get('memory'), '/sys/fs/cgroup/memory');
    assert.equal(m.get('net_prio'), '/sys/fs/cgroup/net_cls,net_prio');
    assert.equal(m.get('name=systemd'), '/sys/fs/cgroup/systemd');
    assert.equal(m.get('unified'), '/sys/fs/cgroup/unified');
    assert.equal(m.has('pids'), false);
    const v2 = cgroupMounts('25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate');
    assert.deepEqual([...v2], [['unified', '/sys/fs/cgroup']]);
  });
});
