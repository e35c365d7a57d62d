import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { splitDump } from '../../common/sql-dump/dump-statements.ts';
import { translateCharsetCommand } from './client-charset.ts';

async function translated(sql: string): Promise<string[]> {
  const out: string[] = [];
  for await (const st of splitDump(Readable.from([Buffer.from(sql, 'latin1')]), { collect: true, headroomBytes: 5 })) {
    const t = translateCharsetCommand(st);
    if (t !== st) assert.equal(t.framed, undefined);
    out.push(`${t.what.kind}: ${t.text!.toString('latin1')}`);
  }
  return out;
}

describe('translateCharsetCommand', () => {
  it("turns mariadb-binlog's \\C line into SET NAMES, and nothing else", async () => {
    assert.deepEqual(await translated('DELIMITER /*!*/;\n/*!\\C utf8mb4 *//*!*/;\n/*!\\C latin1 *//*!*/;\n/*!\\C UTF8MB3 *//*!*/;\n'), ['session: SET NAMES utf8mb4', 'session: SET NAMES latin1', 'session: SET NAMES utf8mb3']);
    // Other forms go to the server as they are (it refuses them as SQL): no client command runs.
    const untouched = ['/*!\\C utf8mb4 */ SELECT 1', '/*!\\C utf8mb4; */', '/*!\\! touch /tmp/x */', '/*!\\C  utf8mb4 */', '/*! \\C utf8mb4 */', '/*M!\\C utf8mb4 */'];
    for (const sql of untouched) assert.deepEqual(await translated(`DELIMITER /*!*/;\n${sql}/*!*/;\n`), [`ordered: ${sql}`], sql);
  });

  for (const charset of ['sjis', 'big5', 'gbk', 'cp932', 'gb18030', 'utf16', '63']) {
    it(`refuses a binlog in ${charset} (a multi-byte character can hold a backslash or a quote)`, async () => {
      await assert.rejects(translated(`DELIMITER /*!*/;\n/*!\\C ${charset} *//*!*/;\n`), (err: unknown) => isSidestashError(err) && err.code === ErrorCodes.RESTORE_FAILED && err.message.includes(charset));
    });
  }
});
