// The contract every Backend must meet, as one node:test suite; each backend's test file
// calls backendContract() with a factory (litestream/restic style).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../errors.ts';
import type { Backend, FileType } from './backend.ts';

export interface ContractTarget {
  backend: Backend;
  cleanup(): Promise<void>;
}

async function names(b: Backend, type: FileType): Promise<string[]> {
  const out: string[] = [];
  for await (const f of b.list(type)) out.push(f.name);
  return out.sort();
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function backendContract(name: string, make: () => Promise<ContractTarget>): void {
  describe(`backend contract: ${name}`, () => {
    let target: ContractTarget;
    let b: Backend;
    before(async () => {
      target = await make();
      b = target.backend;
      await b.create();
    });
    after(async () => {
      await b.close();
      await target.cleanup();
    });

    it('starts empty and creating it again is harmless', async () => {
      await b.create();
      for (const t of ['config', 'keys', 'locks', 'snapshots', 'index', 'data'] as const) assert.deepEqual(await names(b, t), []);
    });

    it('saves, stats, loads whole files and ranges', async () => {
      const data = randomBytes(100_000);
      const id = hex(randomBytes(32));
      await b.save({ type: 'data', name: id }, data);
      assert.equal((await b.stat({ type: 'data', name: id })).sizeBytes, data.length);
      assert.equal(hex(await b.load({ type: 'data', name: id })), hex(data));
      assert.equal(hex(await b.load({ type: 'data', name: id }, { offset: 10, length: 20 })), hex(data.subarray(10, 30)));
      assert.equal(hex(await b.load({ type: 'data', name: id }, { offset: 99_990 })), hex(data.subarray(99_990)));
      assert.equal((await b.load({ type: 'data', name: id }, { offset: 5, length: 0 })).length, 0);
    });

    it('stores empty files', async () => {
      await b.save({ type: 'locks', name: 'a'.repeat(64) }, new Uint8Array());
      assert.equal((await b.load({ type: 'locks', name: 'a'.repeat(64) })).length, 0);
      await b.remove({ type: 'locks', name: 'a'.repeat(64) });
    });

    it('lists files by type with sizes, keeping types apart', async () => {
      const ids = [hex(randomBytes(32)), hex(randomBytes(32)), hex(randomBytes(32))];
      for (const [i, id] of ids.entries()) await b.save({ type: 'snapshots', name: id }, Buffer.alloc(i + 1, 1));
      await b.save({ type: 'index', name: ids[0]! }, Buffer.alloc(7));
      const listed: { name: string; sizeBytes: number }[] = [];
      for await (const f of b.list('snapshots')) listed.push(f);
      assert.deepEqual(listed.sort((x, y) => x.name.localeCompare(y.name)), ids.map((id, i) => ({ name: id, sizeBytes: i + 1 })).sort((x, y) => x.name.localeCompare(y.name)));
      assert.deepEqual(await names(b, 'index'), [ids[0]]);
    });

    it('keeps the single config file', async () => {
      await b.save({ type: 'config', name: 'config' }, Buffer.from('cfg'));
      assert.equal((await b.load({ type: 'config', name: 'config' })).toString(), 'cfg');
      assert.deepEqual(await names(b, 'config'), ['config']);
    });

    it('reports missing files with BACKEND_NOT_FOUND', async () => {
      const missing = { type: 'data' as const, name: hex(randomBytes(32)) };
      for (const op of [() => b.load(missing), () => b.stat(missing), () => b.load(missing, { offset: 1, length: 1 })]) {
        await assert.rejects(op(), (err) => isSidestashError(err, ErrorCodes.BACKEND_NOT_FOUND));
      }
    });

    it('never overwrites a file', async () => {
      const h = { type: 'keys' as const, name: hex(randomBytes(32)) };
      await b.save(h, Buffer.from('first'));
      await assert.rejects(b.save(h, Buffer.from('second')), (err) => isSidestashError(err));
      assert.equal((await b.load(h)).toString(), 'first');
    });

    it('removes files, and removing a missing file is not an error', async () => {
      const h = { type: 'data' as const, name: hex(randomBytes(32)) };
      await b.save(h, Buffer.from('x'));
      await b.remove(h);
      await b.remove(h);
      await assert.rejects(b.load(h), (err) => isSidestashError(err, ErrorCodes.BACKEND_NOT_FOUND));
      assert.ok(!(await names(b, 'data')).includes(h.name));
    });

    it('refuses an aborted call', async () => {
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(b.save({ type: 'data', name: hex(randomBytes(32)) }, Buffer.from('x'), { signal: ac.signal }), (err) => isSidestashError(err, ErrorCodes.ABORTED));
    });

    it('saves concurrently', async () => {
      const files = Array.from({ length: 16 }, () => ({ name: hex(randomBytes(32)), data: randomBytes(4096) }));
      await Promise.all(files.map((f) => b.save({ type: 'data', name: f.name }, f.data)));
      const loaded = await Promise.all(files.map((f) => b.load({ type: 'data', name: f.name })));
      loaded.forEach((l, i) => assert.equal(hex(l), hex(files[i]!.data)));
    });
  });
}
