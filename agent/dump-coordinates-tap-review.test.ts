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

describe('dump coordinates tap on a real mariadb-dump (review r14)', () => {
  it("a trigger an application user created does not take the backup's coordinates away", async () => {
    const { spawn } = await import('node:child_process');
    const { startMariaDB } = await import('../test/helpers/mariadb.ts');
    const db = await startMariaDB({ serverArgs: ['--log-bin=mysql-bin', '--server-id=7', '--binlog-format=ROW'] });
    try {
      await db.sql("CREATE DATABASE shop; CREATE TABLE shop.t (a INT); INSERT INTO shop.t VALUES (1);");
      // As an application creates it, over the wire (the mariadb client would strip the comment).
      const mysql = (await import('mysql2/promise')).default;
      const conn = await mysql.createConnection({ socketPath: db.socket, user: 'root', database: 'shop' });
      await conn.query("CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW BEGIN\n-- SET GLOBAL gtid_slave_pos='0-7-999';\nSET NEW.a = NEW.a + 1;\nEND");
      await conn.end();
      const tap = new DumpCoordinatesTap();
      const child = spawn('mariadb-dump', ['--no-defaults', `--socket=${db.socket}`, '--user=root', '--master-data=2', '--single-transaction', '--databases', 'shop'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      let text = '';
      await pipeline(child.stdout, tap, new Writable({ write: (c: Buffer, _e, cb) => void ((text += c.toString('latin1')), cb()) }));
      assert.equal(await exited, 0);
      assert.match(text, /\n-- SET GLOBAL gtid_slave_pos='0-7-999';\n/, 'the trigger body is in the dump verbatim');
      const outcome = tap.outcome();
      assert.ok('coordinates' in outcome, 'problem' in outcome ? outcome.problem : '');
      assert.equal(outcome.coordinates.file, 'mysql-bin.000001');
      assert.deepEqual(outcome.coordinates.gtid.map((g) => `${g.domain}-${g.serverId}-${g.seq}`), [(await db.sql('SELECT @@gtid_binlog_pos')).trim()]);
    } finally {
      await db.stop();
    }
  });
});
