// Restores one database out of a mariadb-dump of several: passes on only the lines of that
// database's section. The mariadb client's --one-database does this by following its own `use`
// command, which --binary-mode (no client commands from a snapshot) turns off, so the agent
// follows the dump instead. A section starts at any of the lines mariadb-dump writes when it
// moves on to a database: "-- Current Database: `db`", "/*!40000 DROP DATABASE IF EXISTS `db`*/;",
// "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `db` ...", "USE `db`;". Unlike --one-database, the
// DROP and CREATE DATABASE of the other databases are left out too (--one-database runs them:
// they come before their USE). Lines before the first section (the dump's header) go through.
// This is a filter, not a security boundary: a crafted snapshot can only run SQL with the
// restore user's rights, which is what restoring a snapshot means.
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';

/** A line longer than this never starts a section; the rest of it follows its start. */
const HEAD_BYTES = 1024;
const NAME = '`((?:[^`\\n]|``){1,256})`';
const SECTION_STARTS = [
  new RegExp(`^-- Current Database: ${NAME}\\r?\\n?$`),
  new RegExp(`^/\\*!40000 DROP DATABASE IF EXISTS ${NAME}\\*/;\\r?\\n?$`),
  new RegExp(`^CREATE DATABASE /\\*!32312 IF NOT EXISTS\\*/ ${NAME}[ ;]`),
  new RegExp(`^USE ${NAME};\\r?\\n?$`),
];

/** The database whose section a line starts, if it starts one. */
export function sectionDatabase(line: string): string | undefined {
  for (const re of SECTION_STARTS) {
    const m = re.exec(line);
    if (m) return m[1]!.replace(/``/g, '`');
  }
  return undefined;
}

export class OneDatabaseFilter extends Transform {
  readonly #target: string;
  #current: string;
  #head: Buffer[] = [];
  #headBytes = 0;
  /** head: collecting the start of a line; pass/drop: the rest of a long line. */
  #mode: 'head' | 'pass' | 'drop' = 'head';

  constructor(database: string) {
    super({ highWaterMark: 1024 * 1024 });
    this.#target = database;
    this.#current = database;
  }

  #endHead(): Buffer {
    const head = Buffer.concat(this.#head, this.#headBytes);
    this.#head = [];
    this.#headBytes = 0;
    const db = sectionDatabase(head.toString('utf8'));
    if (db !== undefined) this.#current = db;
    return head;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      const nl = chunk.indexOf(0x0a, i);
      const end = nl < 0 ? chunk.length : nl + 1;
      if (this.#mode !== 'head') {
        if (this.#mode === 'pass') this.push(chunk.subarray(i, end));
        if (nl >= 0) this.#mode = 'head';
        i = end;
        continue;
      }
      const take = Math.min(end - i, HEAD_BYTES - this.#headBytes);
      this.#head.push(chunk.subarray(i, i + take));
      this.#headBytes += take;
      i += take;
      const lineEnded = nl >= 0 && i === end;
      if (lineEnded || this.#headBytes >= HEAD_BYTES) {
        const head = this.#endHead();
        const keep = this.#current === this.#target;
        if (keep) this.push(head);
        if (!lineEnded) this.#mode = keep ? 'pass' : 'drop';
      }
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.#headBytes > 0) {
      const head = this.#endHead();
      if (this.#current === this.#target) this.push(head);
    }
    cb();
  }
}
