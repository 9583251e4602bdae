import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTable } from './tabwriter.js';
import { renderList } from './list-format.js';
import { CONTAINER_HEADERS, ContainerRow, IMAGE_HEADERS, displayablePorts, imageRows } from './rows.js';

const NOW = 1_800_000_000_000;
const container = {
  Id: '6c61ec1733c745ae044be0255347637bbdf8ec088c04ba8d3ae64f91f42aabad',
  Names: ['/web', '/other/alias'],
  Image: 'busybox',
  Command: "sh -c 'while true; do echo tick; sleep 1; done'",
  Created: NOW / 1000 - 17,
  Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }, { PrivatePort: 443, Type: 'tcp' }],
  Labels: { app: 'shop' },
  State: 'running',
  Status: 'Up 16 seconds',
  SizeRw: 12, SizeRootFs: 1_983_488,
};

test('tabwriter pads columns like docker (min 10, padding 3), last column unpadded', () => {
  assert.equal(renderTable(['A\tBB\tC', 'long value\tx\ty']), 'A            BB        C\nlong value   x         y\n');
});

test('ps default table matches docker output', () => {
  const out = renderList([new ContainerRow(container, true, NOW)], '', 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}', CONTAINER_HEADERS);
  assert.equal(out,
    'CONTAINER ID   IMAGE     COMMAND                  CREATED          STATUS          PORTS                           NAMES\n' +
    '6c61ec1733c7   busybox   "sh -c \'while true; …"   17 seconds ago   Up 16 seconds   443/tcp, 0.0.0.0:8080->80/tcp   web\n');
});

test('ps fields: --no-trunc, size, labels, json', () => {
  const full = new ContainerRow(container, false, NOW);
  assert.equal(full.ID.length, 64);
  assert.equal(full.Names, 'web,other/alias');
  assert.equal(full.Command, JSON.stringify(container.Command));
  const row = new ContainerRow(container, true, NOW);
  assert.equal(row.Size, '12B (virtual 1.98MB)');
  assert.equal(renderList([row], '{{.Names}}: {{.Label "app"}} {{.Labels}}', '', CONTAINER_HEADERS), 'web: shop app=shop\n');
  assert.equal(renderList([row], 'table {{.ID}}\\t{{.Label "app"}}', '', CONTAINER_HEADERS), 'CONTAINER ID   app\n6c61ec1733c7   shop\n');
  const json = JSON.parse(renderList([row], 'json', '', CONTAINER_HEADERS));
  assert.equal(json.Names, 'web');
  assert.equal(json.RunningFor, '17 seconds ago');
});

test('ports: consecutive ranges grouped, host mappings after', () => {
  assert.equal(displayablePorts([
    { PrivatePort: 81, Type: 'tcp' }, { PrivatePort: 80, Type: 'tcp' }, { PrivatePort: 53, Type: 'udp' },
    { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
    { IP: '127.0.0.1', PrivatePort: 9000, PublicPort: 9000, Type: 'tcp' },
  ]), '53/udp, 80-81/tcp, 127.0.0.1:9000->9000/tcp, [::]:8080->80/tcp');
});

test('images table: a row per tag, <none> for untagged', () => {
  const imgs = [
    { Id: 'sha256:e5ec39b5a123d4e0c9860299fc4ed937f3c8d785601dce328b6a3e0da064d533', RepoTags: ['busybox:latest', 'localhost:5000/bb:1'], Created: NOW / 1000 - 3600 * 3, Size: 1_983_488 },
    { Id: 'sha256:0123456789ab0000000000000000000000000000000000000000000000000000', RepoTags: null, Created: NOW / 1000 - 60, Size: 4_261_412 },
  ];
  const out = renderList(imageRows(imgs, true, NOW), '', 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}', IMAGE_HEADERS);
  assert.equal(out,
    'REPOSITORY          TAG       IMAGE ID       CREATED              SIZE\n' +
    'busybox             latest    e5ec39b5a123   3 hours ago          1.98MB\n' +
    'localhost:5000/bb   1         e5ec39b5a123   3 hours ago          1.98MB\n' +
    '<none>              <none>    0123456789ab   About a minute ago   4.26MB\n');
});
