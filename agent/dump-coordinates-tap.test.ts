import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { DumpCoordinatesTap } from './dump-coordinates-tap.ts';
import type { CoordinatesOutcome } from './dump-coordinates-tap.ts';

const HEAD = "-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB\n--\n-- Position to start replication or point-in-time recovery from\n--\n\n-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000042', MASTER_LOG_POS=650;\n\n";
const DATA = "INSERT INTO `t` VALUES\n(1,'a\\n-- CHANGE MASTER TO MASTER_LOG_FILE=\\'evil.000001\\', MASTER_LOG_POS=4;'),\n(2,'b');\n";
const TAIL = "\n-- The deferred gtid setting for slave corresponding to the master-data CHANGE-MASTER follows\n\n-- SET GLOBAL gtid_slave_pos='0-7-2,1-9-40';\n/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n\n-- Dump completed on 2026-12-01 23:33:11\n";

async function run(dump: string, chunk: number): Promise<{ outcome: CoordinatesOutcome; out: Buffer }> {
  const tap = new DumpCoordinatesTap({ now: () => 1234 });
  const bytes = Buffer.from(dump, 'latin1');
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  const got: Buffer[] = [];
  await pipeline(Readable.from(parts), tap, new Writable({ write: (c: Buffer, _e, cb) => void (got.push(c), cb()) }));
  return { outcome: tap.outcome(), out: Buffer.concat(got) };
}

describe('dump coordinates tap', () => {
  it('reads the file, position and GTIDs mariadb-dump --master-data=2 writes, in chunks of any size, and passes every byte on', async () => {
    const dump = HEAD + DATA + TAIL;
    for (const chunk of [1, 2, 3, 4, 7, 64, dump.length]) {
      const { outcome, out } = await run(dump, chunk);
      assert.deepEqual(outcome, { position: { file: 'mysql-bin.000042', position: 650, seenAtMs: 1234 } }, `chunks of ${chunk}`);
      assert.equal(out.toString('latin1'), dump);
    }
  });

  it('reads the CHANGE MASTER line when it is the dump\'s first line', async () => {
    const { outcome } = await run("-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=4;\n" + DATA, 5);
    assert.deepEqual(outcome, { position: { file: 'mysql-bin.000001', position: 4, seenAtMs: 1234 } });
  });

  it("takes the first CHANGE MASTER line only: a trigger's body (dumped verbatim) cannot move or take away the coordinates", async () => {
    const trigger = "DELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER `t_bi` BEFORE INSERT ON `t` FOR EACH ROW BEGIN\n-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=4;\n-- SET GLOBAL gtid_slave_pos='0-7-999';\nSET NEW.a = 1;\nEND */;;\nDELIMITER ;\n";
    const { outcome } = await run(HEAD + DATA + trigger + TAIL, 7);
    assert.deepEqual(outcome, { position: { file: 'mysql-bin.000042', position: 650, seenAtMs: 1234 } });
  });

  const refused: [string, string, RegExp][] = [
    ['no CHANGE MASTER line (a server without its binary log)', DATA + TAIL, /no CHANGE MASTER/],
    ['a file name with a path', HEAD.replace('mysql-bin.000042', '../x.000042') + DATA, /not one the archive accepts/],
    ['the line only inside a value (an escaped newline)', DATA + TAIL, /no CHANGE MASTER/],
  ];
  for (const [name, dump, want] of refused) {
    it(`gives no coordinates for ${name}`, async () => {
      const { outcome } = await run(dump, 3);
      assert.ok('problem' in outcome && want.test(outcome.problem), JSON.stringify(outcome));
    });
  }
});
