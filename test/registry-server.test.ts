// The distribution server driven over HTTP on loopback: every endpoint of the
// OCI Distribution Spec the server claims, its headers and error bodies.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readdir, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import bcrypt from 'bcryptjs';
import { collectGarbage } from '../src/registry/gc.js';
import { blob, digestOf, makeImage, pushBlobRaw, pushImageRaw, startRegistry, u8, type TestRegistry } from './helpers/registry.js';

async function errCode(r: Response): Promise<string> {
  return (await r.json()).errors[0].code;
}

describe('berth registry: protocol', () => {
  let reg: TestRegistry;
  before(async () => { reg = await startRegistry(); });
  after(async () => { await reg.stop(); });

  it('answers /v2/ with the API version header', async () => {
    const r = await fetch(`${reg.url}/v2/`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('docker-distribution-api-version'), 'registry/2.0');
    assert.deepEqual(await r.json(), {});
  });

  it('does a chunked upload with Content-Range and refuses out-of-order chunks', async () => {
    const b = blob(Buffer.alloc(300_000, 7));
    const start = await fetch(`${reg.url}/v2/chunky/blobs/uploads/`, { method: 'POST' });
    assert.equal(start.status, 202);
    assert.equal(start.headers.get('range'), '0-0');
    let loc = start.headers.get('location')!;
    assert.match(loc, /^\/v2\/chunky\/blobs\/uploads\/[0-9a-f-]{36}$/);
    const c1 = b.bytes.subarray(0, 100_000);
    let r = await fetch(reg.url + loc, { method: 'PATCH', body: u8(c1), headers: { 'Content-Range': '0-99999', 'Content-Type': 'application/octet-stream' } });
    assert.equal(r.status, 202);
    assert.equal(r.headers.get('range'), '0-99999');
    loc = r.headers.get('location')!;
    // A chunk that does not start where the last ended is refused and changes nothing.
    r = await fetch(reg.url + loc, { method: 'PATCH', body: u8(b.bytes.subarray(150_000, 160_000)), headers: { 'Content-Range': '150000-159999' } });
    assert.equal(r.status, 416);
    r = await fetch(reg.url + loc);
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('range'), '0-99999');
    // A chunk without Content-Range (streamed) appends too.
    r = await fetch(reg.url + loc, { method: 'PATCH', body: u8(b.bytes.subarray(100_000, 250_000))});
    assert.equal(r.status, 202);
    assert.equal(r.headers.get('range'), '0-249999');
    // Not visible before the final PUT.
    assert.equal((await fetch(`${reg.url}/v2/chunky/blobs/${b.digest}`, { method: 'HEAD' })).status, 404);
    r = await fetch(`${reg.url}${loc}?digest=${b.digest}`, { method: 'PUT', body: u8(b.bytes.subarray(250_000))});
    assert.equal(r.status, 201, await r.text());
    assert.equal(r.headers.get('docker-content-digest'), b.digest);
    assert.equal(r.headers.get('location'), `/v2/chunky/blobs/${b.digest}`);
    const got = Buffer.from(await (await fetch(`${reg.url}/v2/chunky/blobs/${b.digest}`)).arrayBuffer());
    assert.ok(got.equals(b.bytes));
    // The session is gone once committed.
    assert.equal((await fetch(reg.url + loc)).status, 404);
  });

  it('serves Range reads and refuses unsatisfiable ranges', async () => {
    const b = blob('0123456789abcdef');
    assert.equal((await pushBlobRaw(reg.url, 'ranges', b)).status, 201);
    const u = `${reg.url}/v2/ranges/blobs/${b.digest}`;
    let r = await fetch(u, { headers: { Range: 'bytes=2-5' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers.get('content-range'), 'bytes 2-5/16');
    assert.equal(await r.text(), '2345');
    r = await fetch(u, { headers: { Range: 'bytes=10-' } });
    assert.equal(await r.text(), 'abcdef');
    r = await fetch(u, { headers: { Range: 'bytes=-3' } });
    assert.equal(await r.text(), 'def');
    r = await fetch(u, { headers: { Range: 'bytes=16-20' } });
    assert.equal(r.status, 416);
    assert.equal(r.headers.get('content-range'), 'bytes */16');
    r = await fetch(u, { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-length'), '16');
    assert.equal(r.headers.get('docker-content-digest'), b.digest);
  });

  it('refuses an upload whose content does not match its digest, leaving nothing visible', async () => {
    const real = blob('real content');
    const claimed = digestOf('other content');
    const r = await fetch(`${reg.url}/v2/corrupt/blobs/uploads/?digest=${claimed}`, { method: 'POST', body: u8(real.bytes)});
    assert.equal(r.status, 400);
    assert.equal(await errCode(r), 'DIGEST_INVALID');
    for (const d of [claimed, real.digest]) {
      assert.equal((await fetch(`${reg.url}/v2/corrupt/blobs/${d}`, { method: 'HEAD' })).status, 404);
    }
    assert.deepEqual(await readdir(path.join(reg.root, 'uploads')), []);
  });

  it('stores manifests, serves them by tag and digest, refuses ones with missing blobs', async () => {
    const img = makeImage([100, 200]);
    const missing = await fetch(`${reg.url}/v2/app/manifests/v1`, { method: 'PUT', body: u8(img.manifest), headers: { 'Content-Type': img.mediaType } });
    assert.equal(missing.status, 400);
    assert.equal(await errCode(missing), 'MANIFEST_BLOB_UNKNOWN');
    const r = await pushImageRaw(reg.url, 'app', img, 'v1');
    assert.equal(r.status, 201, await r.text());
    assert.equal(r.headers.get('docker-content-digest'), img.digest);
    for (const ref of ['v1', img.digest]) {
      const g = await fetch(`${reg.url}/v2/app/manifests/${ref}`, { headers: { Accept: img.mediaType } });
      assert.equal(g.status, 200);
      assert.equal(g.headers.get('content-type'), img.mediaType);
      assert.equal(g.headers.get('docker-content-digest'), img.digest);
      assert.ok(Buffer.from(await g.arrayBuffer()).equals(img.manifest));
    }
    const unknown = await fetch(`${reg.url}/v2/app/manifests/nope`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { tag: 'nope' } }] });
    const badName = await fetch(`${reg.url}/v2/Bad/manifests/v1`);
    assert.equal(await errCode(badName), 'NAME_INVALID');
  });

  it('pages tags with n and last, and the catalog likewise', async () => {
    const img = makeImage([10]);
    for (const t of ['a', 'b', 'c', 'd', 'e']) assert.equal((await pushImageRaw(reg.url, 'paged/repo', img, t)).status, 201);
    let r = await fetch(`${reg.url}/v2/paged/repo/tags/list?n=2`);
    assert.deepEqual(await r.json(), { name: 'paged/repo', tags: ['a', 'b'] });
    assert.equal(r.headers.get('link'), '</v2/paged/repo/tags/list?last=b&n=2>; rel="next"');
    r = await fetch(`${reg.url}/v2/paged/repo/tags/list?n=2&last=b`);
    assert.deepEqual((await r.json()).tags, ['c', 'd']);
    r = await fetch(`${reg.url}/v2/paged/repo/tags/list?n=2&last=d`);
    assert.deepEqual((await r.json()).tags, ['e']);
    assert.equal(r.headers.get('link'), null);
    r = await fetch(`${reg.url}/v2/paged/repo/tags/list`);
    assert.deepEqual((await r.json()).tags, ['a', 'b', 'c', 'd', 'e']);
    assert.equal((await fetch(`${reg.url}/v2/no/such/tags/list`)).status, 404);
    assert.equal(await errCode(await fetch(`${reg.url}/v2/paged/repo/tags/list?n=x`)), 'PAGINATION_NUMBER_INVALID');

    const cat = await (await fetch(`${reg.url}/v2/_catalog`)).json();
    assert.ok(cat.repositories.includes('paged/repo') && cat.repositories.includes('app'), JSON.stringify(cat));
    assert.deepEqual(cat.repositories, [...cat.repositories].sort());
    const first = await fetch(`${reg.url}/v2/_catalog?n=1`);
    const page = await first.json();
    assert.equal(page.repositories.length, 1);
    assert.match(first.headers.get('link')!, /^<\/v2\/_catalog\?last=.+&n=1>; rel="next"$/);
  });

  it('mounts a blob from another repository only when that repository has it', async () => {
    const b = blob('mount me');
    assert.equal((await pushBlobRaw(reg.url, 'src', b)).status, 201);
    let r = await fetch(`${reg.url}/v2/dst/blobs/uploads/?mount=${b.digest}&from=src`, { method: 'POST' });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('location'), `/v2/dst/blobs/${b.digest}`);
    assert.equal((await fetch(`${reg.url}/v2/dst/blobs/${b.digest}`, { method: 'HEAD' })).status, 200);
    // From a repository without the blob: an ordinary upload session starts instead.
    r = await fetch(`${reg.url}/v2/dst2/blobs/uploads/?mount=${b.digest}&from=elsewhere`, { method: 'POST' });
    assert.equal(r.status, 202);
    assert.equal((await fetch(reg.url + r.headers.get('location')!, { method: 'DELETE' })).status, 204);
  });

  it('deletes tags, manifests and blobs', async () => {
    const img = makeImage([50]);
    assert.equal((await pushImageRaw(reg.url, 'del', img, 'one')).status, 201);
    assert.equal((await pushImageRaw(reg.url, 'del', img, 'two')).status, 201);
    assert.equal((await fetch(`${reg.url}/v2/del/manifests/one`, { method: 'DELETE' })).status, 202);
    assert.deepEqual((await (await fetch(`${reg.url}/v2/del/tags/list`)).json()).tags, ['two']);
    assert.equal((await fetch(`${reg.url}/v2/del/manifests/${img.digest}`, { method: 'DELETE' })).status, 202);
    assert.equal((await fetch(`${reg.url}/v2/del/manifests/two`)).status, 404);
    assert.equal((await fetch(`${reg.url}/v2/del/manifests/${img.digest}`)).status, 404);
    assert.equal((await fetch(`${reg.url}/v2/del/manifests/${img.digest}`, { method: 'DELETE' })).status, 404);
    const layer = img.layers[0].digest;
    assert.equal((await fetch(`${reg.url}/v2/del/blobs/${layer}`, { method: 'DELETE' })).status, 202);
    assert.equal((await fetch(`${reg.url}/v2/del/blobs/${layer}`, { method: 'HEAD' })).status, 404);
    assert.equal(await errCode(await fetch(`${reg.url}/v2/del/blobs/${layer}`, { method: 'DELETE' })), 'BLOB_UNKNOWN');
  });

  it('lists referrers, filters by artifactType and reports OCI-Subject', async () => {
    const subject = makeImage([20]);
    assert.equal((await pushImageRaw(reg.url, 'refs', subject, 'base')).status, 201);
    const subjectDesc = { mediaType: subject.mediaType, digest: subject.digest, size: subject.manifest.length };
    const empty = blob('{}');
    assert.equal((await pushBlobRaw(reg.url, 'refs', empty)).status, 201);
    const artifact = (type: string, note: string) => Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: type,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: empty.size },
      layers: [], subject: subjectDesc, annotations: { note },
    }));
    const sig = artifact('application/vnd.example.sig', 's');
    const sbom = artifact('application/vnd.example.sbom', 'b');
    for (const m of [sig, sbom]) {
      const r = await fetch(`${reg.url}/v2/refs/manifests/${digestOf(m)}`, { method: 'PUT', body: u8(m), headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(r.status, 201, await r.text());
      assert.equal(r.headers.get('oci-subject'), subject.digest);
    }
    let r = await fetch(`${reg.url}/v2/refs/referrers/${subject.digest}`);
    assert.equal(r.headers.get('content-type'), 'application/vnd.oci.image.index.v1+json');
    const all = await r.json();
    assert.equal(all.manifests.length, 2);
    assert.deepEqual(all.manifests.map((d: any) => d.artifactType).sort(), ['application/vnd.example.sbom', 'application/vnd.example.sig']);
    r = await fetch(`${reg.url}/v2/refs/referrers/${subject.digest}?artifactType=application/vnd.example.sig`);
    assert.equal(r.headers.get('oci-filters-applied'), 'artifactType');
    const one = await r.json();
    assert.deepEqual(one.manifests, [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf(sig), size: sig.length, artifactType: 'application/vnd.example.sig', annotations: { note: 's' } }]);
    // Deleting a referrer removes it from the list.
    assert.equal((await fetch(`${reg.url}/v2/refs/manifests/${digestOf(sig)}`, { method: 'DELETE' })).status, 202);
    assert.equal((await (await fetch(`${reg.url}/v2/refs/referrers/${subject.digest}`)).json()).manifests.length, 1);
    // Unknown subject: an empty index, not an error.
    assert.deepEqual((await (await fetch(`${reg.url}/v2/refs/referrers/${digestOf('x')}`)).json()).manifests, []);
  });

  it('accepts an index only when its manifests are present', async () => {
    const a = makeImage([5], 'amd64');
    const idx = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: a.mediaType, digest: a.digest, size: a.manifest.length, platform: { os: 'linux', architecture: 'amd64' } }],
    }));
    let r = await fetch(`${reg.url}/v2/multi/manifests/latest`, { method: 'PUT', body: u8(idx), headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json' } });
    assert.equal(await errCode(r), 'MANIFEST_BLOB_UNKNOWN');
    assert.equal((await pushImageRaw(reg.url, 'multi', a, a.digest)).status, 201);
    r = await fetch(`${reg.url}/v2/multi/manifests/latest`, { method: 'PUT', body: u8(idx), headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json' } });
    assert.equal(r.status, 201);
  });
});

describe('berth registry: auth, read-only, gc', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => { for (const c of cleanups.reverse()) await c(); });

  it('challenges unauthenticated requests and accepts htpasswd users', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'berth-reg-auth-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'htpasswd');
    // htpasswd -B writes $2y$; the server must accept it.
    await writeFile(file, `alice:${bcrypt.hashSync('s3cret', 5).replace(/^\$2b\$/, '$2y$')}\n`);
    const reg = await startRegistry({ htpasswd: file });
    cleanups.push(() => reg.stop());
    let r = await fetch(`${reg.url}/v2/`);
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Basic realm="berth-registry"');
    assert.equal(await errCode(r), 'UNAUTHORIZED');
    const basic = (u: string, p: string) => ({ Authorization: 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64') });
    assert.equal((await fetch(`${reg.url}/v2/`, { headers: basic('alice', 'wrong') })).status, 401);
    assert.equal((await fetch(`${reg.url}/v2/`, { headers: basic('bob', 's3cret') })).status, 401);
    assert.equal((await fetch(`${reg.url}/v2/`, { headers: basic('alice', 's3cret') })).status, 200);
    assert.equal((await pushImageRaw(reg.url, 'private', makeImage([10]), 'v1', basic('alice', 's3cret'))).status, 201);
    assert.equal((await fetch(`${reg.url}/v2/private/manifests/v1`)).status, 401);
  });

  it('refuses writes in read-only mode but serves reads', async () => {
    const rw = await startRegistry();
    cleanups.push(() => rw.stop());
    const img = makeImage([10]);
    assert.equal((await pushImageRaw(rw.url, 'ro', img, 'v1')).status, 201);
    const ro = await startRegistry({ root: rw.root, readOnly: true });
    cleanups.push(() => ro.stop());
    assert.equal((await fetch(`${ro.url}/v2/ro/manifests/v1`)).status, 200);
    for (const [method, p] of [['POST', '/v2/ro/blobs/uploads/'], ['DELETE', `/v2/ro/manifests/${img.digest}`], ['PUT', '/v2/ro/manifests/v2']]) {
      const r = await fetch(ro.url + p, { method, body: method === 'PUT' ? u8(img.manifest) : undefined});
      assert.equal(r.status, 405, `${method} ${p}`);
      assert.equal(await errCode(r), 'UNSUPPORTED');
    }
    assert.equal((await fetch(`${ro.url}/v2/ro/manifests/v1`)).status, 200);
  });

  it('collects blobs no manifest references and keeps the rest', async () => {
    const reg = await startRegistry();
    cleanups.push(() => reg.stop());
    const kept = makeImage([100]);
    const dropped = makeImage([200]);
    const orphan = blob('never referenced');
    assert.equal((await pushImageRaw(reg.url, 'gc', kept, 'keep')).status, 201);
    assert.equal((await pushImageRaw(reg.url, 'gc', dropped, 'drop')).status, 201);
    assert.equal((await pushBlobRaw(reg.url, 'gc', orphan)).status, 201);
    assert.equal((await fetch(`${reg.url}/v2/gc/manifests/${dropped.digest}`, { method: 'DELETE' })).status, 202);
    const dry = await collectGarbage(reg.root, { dryRun: true });
    assert.equal(dry.blobsDeleted, 4); // dropped manifest, its config and layer, the orphan
    const r = await collectGarbage(reg.root);
    assert.equal(r.blobsDeleted, 4);
    assert.equal(r.kept, 3);
    assert.equal(r.bytesFreed, dropped.manifest.length + dropped.config.size + 200 + orphan.size);
    assert.equal((await fetch(`${reg.url}/v2/gc/blobs/${orphan.digest}`, { method: 'HEAD' })).status, 404);
    assert.equal((await fetch(`${reg.url}/v2/gc/blobs/${dropped.layers[0].digest}`, { method: 'HEAD' })).status, 404);
    const back = await fetch(`${reg.url}/v2/gc/blobs/${kept.layers[0].digest}`);
    assert.ok(Buffer.from(await back.arrayBuffer()).equals(kept.layers[0].bytes));
    assert.equal((await fetch(`${reg.url}/v2/gc/manifests/keep`)).status, 200);
  });

  it('with deleteUntagged drops manifests no tag reaches, keeping index children and referrers', async () => {
    const reg = await startRegistry();
    cleanups.push(() => reg.stop());
    const child = makeImage([30]);
    const loose = makeImage([40]);
    assert.equal((await pushImageRaw(reg.url, 'u', child, child.digest)).status, 201);
    assert.equal((await pushImageRaw(reg.url, 'u', loose, loose.digest)).status, 201);
    const childDesc = { mediaType: child.mediaType, digest: child.digest, size: child.manifest.length };
    const idx = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ ...childDesc, platform: { os: 'linux', architecture: 'amd64' } }] }));
    assert.equal((await fetch(`${reg.url}/v2/u/manifests/top`, { method: 'PUT', body: u8(idx), headers: { 'Content-Type': 'application/vnd.oci.image.index.v1+json' } })).status, 201);
    const empty = blob('{}');
    assert.equal((await pushBlobRaw(reg.url, 'u', empty)).status, 201);
    const sig = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.example.sig',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: empty.size }, layers: [], subject: childDesc,
    }));
    assert.equal((await fetch(`${reg.url}/v2/u/manifests/${digestOf(sig)}`, { method: 'PUT', body: u8(sig), headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } })).status, 201);

    const dry = await collectGarbage(reg.root, { deleteUntagged: true, dryRun: true });
    const r = await collectGarbage(reg.root, { deleteUntagged: true });
    assert.deepEqual(dry, r);
    assert.equal(r.manifestsDeleted, 1);
    assert.equal(r.blobsDeleted, 3); // loose manifest, config, layer
    assert.equal((await fetch(`${reg.url}/v2/u/manifests/${loose.digest}`)).status, 404);
    for (const d of [child.digest, digestOf(sig), digestOf(idx)]) assert.equal((await fetch(`${reg.url}/v2/u/manifests/${d}`)).status, 200);
    assert.equal((await fetch(`${reg.url}/v2/u/blobs/${child.layers[0].digest}`, { method: 'HEAD' })).status, 200);
    assert.equal((await fetch(`${reg.url}/v2/u/blobs/${loose.layers[0].digest}`, { method: 'HEAD' })).status, 404);
  });
});
