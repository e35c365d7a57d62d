// Review of issue 14 (r14): the coordinates tap trusts every line of the dump that starts with
// "-- ", but mariadb-dump writes trigger, routine and event bodies as the server keeps them, newlines
// and all (only values in INSERTs are escaped). Any database user who may create a trigger on a
// table it owns (triggers are dumped by default) puts a line into every later dump; a second
// "-- SET GLOBAL gtid_slave_pos=..." (or CHANGE MASTER) line makes every backup record no
// coordinates, with only a warning in the agent's log: the backups stay green and point-in-time
// recovery silently falls back to older and older dumps until none is left.
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { DumpCoordinatesTap } from './dump-coordinates-tap.ts';

const HEAD = "-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB\n--\n-- Position to start replication or point-in-time recovery from\n--\n\n-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000042', MASTER_LOG_POS=650;\n\n";
/** What mariadb-dump writes for a trigger whose body holds a comment line (the body verbatim). */
const TRIGGER =
  'DELIMITER ;;\n/*!50003 CREATE*/ /*!50017 DEFINER=`app`@`%`*/ /*!50003 TRIGGER `t_bi` BEFORE INSERT ON `t` FOR EACH ROW BEGIN\n' +
  "-- SET GLOBAL gtid_slave_pos='0-7-999';\n" +
  "-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=4;\n" +
  'SET NEW.a = NEW.a + 1;\nEND */;;\nDELIMITER ;\n';
const TAIL = "\n-- The deferred gtid setting for slave corresponding to the master-data CHANGE-MASTER follows\n\n-- SET GLOBAL gtid_slave_pos='0-7-2';\n/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n\n-- Dump completed on 2026-12-01 23:33:11\n";

describe('dump coordinates tap (review r14)', () => {
  it("a trigger body's comment lines are not the dump's coordinates", async () => {
    const tap = new DumpCoordinatesTap({ now: () => 1234 });
    await pipeline(Readable.from([Buffer.from(HEAD + TRIGGER + TAIL, 'latin1')]), tap, new Writable({ write: (_c, _e, cb) => cb() }));
    assert.deepEqual(tap.outcome(), { coordinates: { file: 'mysql-bin.000042', position: 650, gtid: [{ domain: 0, serverId: 7, seq: 2n }], seenAtMs: 1234 } });
  });
});
