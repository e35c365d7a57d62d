// The server's answer for a dump's GTID state and server id is read strictly: anything but a
// server id and a GTID list is no coordinates (the backup says why), never a guess.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveCoordinates } from './dump-coordinates.ts';

const at = { file: 'mysql-bin.000042', position: 650, seenAtMs: 1234 };

describe('resolving a dump position on the server', () => {
  it('asks the server at that position and records its id and GTID state', async () => {
    let asked = '';
    const r = await resolveCoordinates(at, async (sql) => ((asked = sql), '7\t0-7-12,1-9-3\n'));
    assert.equal(asked, "SELECT @@server_id, BINLOG_GTID_POS('mysql-bin.000042', 650)");
    assert.deepEqual(r, { coordinates: { file: 'mysql-bin.000042', position: 650, gtid: [{ domain: 0, serverId: 7, seq: 12n }, { domain: 1, serverId: 9, seq: 3n }], serverId: 7, seenAtMs: 1234 } });
    assert.deepEqual(await resolveCoordinates(at, async () => '7\tNULL\n'), { coordinates: { file: 'mysql-bin.000042', position: 650, gtid: [], serverId: 7, seenAtMs: 1234 } });
  });

  const refused: [string, string | Error][] = [
    ['server id 0', '0\t0-7-12\n'],
    ['a server id beyond 32 bits', '4294967296\t0-7-12\n'],
    ['a server id that is no number', 'seven\t0-7-12\n'],
    ['a GTID state that is not a list', "7\t0-7-12'; DROP\n"],
    ['a repeated domain', '7\t0-7-12,0-8-1\n'],
    ['a failing query', new Error('access denied')],
  ];
  for (const [name, answer] of refused) {
    it(`records no coordinates for ${name}`, async () => {
      const r = await resolveCoordinates(at, async () => {
        if (answer instanceof Error) throw answer;
        return answer;
      });
      assert.ok('problem' in r, JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    });
  }

  it('never puts a file name that is not one into SQL', async () => {
    let asked = false;
    const r = await resolveCoordinates({ ...at, file: "x'); DROP TABLE t; --.000001" }, async () => ((asked = true), '7\t\n'));
    assert.ok('problem' in r);
    assert.equal(asked, false);
  });
});
