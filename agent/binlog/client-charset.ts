// The one client command a binlog replay honours: mariadb-binlog writes `/*!\C utf8mb4 */` before
// a Query event in a new character set, which the mariadb client runs itself (com_charset: it
// switches its character set, i.e. SET NAMES). The replay sends statements over the wire, where
// the server would refuse it as SQL, so exactly that form, with an allow-listed character set, is
// translated into SET NAMES; anything else goes to the server as it is and no client command of
// any kind can run (there is no client program).
//
// The allow-list is the character sets in which a multi-byte character never holds a byte below
// 0x80: the splitter reads statements byte by byte, and in big5, cp932, sjis, gbk or gb18030 a
// character's second byte can be a backslash or a quote, which would end a string early. A
// binlog in one of those is refused, not split wrongly.
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import type { ClassifiedStatement } from '../../common/sql-dump/dump-statements.ts';

const REPLAY_CHARSETS = new Set([
  'utf8mb4', 'utf8mb3', 'utf8', 'latin1', 'latin2', 'latin5', 'latin7', 'ascii', 'binary',
  'cp1250', 'cp1251', 'cp1256', 'cp1257', 'cp850', 'cp852', 'cp866', 'dec8', 'greek', 'hebrew', 'hp8',
  'keybcs2', 'koi8r', 'koi8u', 'macce', 'macroman', 'swe7', 'tis620', 'armscii8', 'geostd8',
  'ujis', 'eucjpms', 'euckr', 'gb2312',
]);

const CHARSET_COMMAND = /^\/\*!\\C ([A-Za-z0-9_]{1,32}) \*\/$/;

/** The statement to run instead of st: SET NAMES for mariadb-binlog's \C line, st itself otherwise. */
export function translateCharsetCommand(st: ClassifiedStatement): ClassifiedStatement {
  const text = st.text;
  if (!text || text.length > 48 || text[0] !== 0x2f || text[3] !== 0x5c) return st;
  const m = CHARSET_COMMAND.exec(text.toString('latin1'));
  if (!m) return st;
  const charset = m[1]!.toLowerCase();
  if (!REPLAY_CHARSETS.has(charset)) {
    throw new SidestashError(ErrorCodes.RESTORE_FAILED, `the binary log switches to the character set ${JSON.stringify(m[1])} at byte ${st.contentOffset} of mariadb-binlog's output, which the replay cannot read safely (it reads only character sets whose multi-byte characters never hold an ASCII byte)`, { details: { offset: st.contentOffset } });
  }
  const set = Buffer.from(`SET NAMES ${charset}`, 'latin1');
  // framed (the old text's buffer) is not carried over.
  return { offset: st.offset, contentOffset: st.contentOffset, end: st.end, text: set, head: set, topLevelGroups: 0, delimiter: st.delimiter, what: { kind: 'session' } };
}
