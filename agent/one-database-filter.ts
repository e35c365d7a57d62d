// Restores one database out of a mariadb-dump of several: passes on only the lines of that
// database's section. The mariadb client's --one-database does this by following its own `use`
// command, which --binary-mode (no client commands from a snapshot) turns off, so the agent
// follows the dump instead. A section starts at any of the lines mariadb-dump writes when it
// moves on to a database: "-- Current Database: `db`", "/*!40000 DROP DATABASE IF EXISTS `db`*/;",
// "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `db` ...", "USE `db`;". Unlike --one-database, the
// DROP and CREATE DATABASE of the other databases are left out too (--one-database runs them:
// they come before their USE).
//
// Nothing goes on before the database is known to be in the dump: the lines before the first
// section (the dump's header) are held back until the chosen database's section starts, so a
// dump without that database passes on no byte at all and fails SIDESTASH_NOT_IN_SNAPSHOT at
// its end, naming the databases it does contain. A dump without section lines (mariadb-dump of
// one database without --databases) names its database only in its header comment
// ("-- Host: h    Database: db"): a different name there fails the same way; with no name
// (--skip-comments) the dump goes through whole, into the chosen database.
// This is a filter, not a security boundary: a crafted snapshot can only run SQL with the
// restore user's rights, which is what restoring a snapshot means.
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { ErrorCodes, SidestashError } from '../common/errors.ts';

/** A line longer than this never starts a section; the rest of it follows its start. */
const HEAD_BYTES = 1024;
/** Lines held back before any section line; past this the dump is taken to have none. */
const HELD_BYTES = 256 * 1024;
/** Database names kept for the error message. */
const SEEN_NAMES = 1000;
const NAME = '`((?:[^`\\n]|``){1,256})`';
const SECTION_STARTS = [
  new RegExp(`^-- Current Database: ${NAME}\\r?\\n?$`),
  new RegExp(`^/\\*!40000 DROP DATABASE IF EXISTS ${NAME}\\*/;\\r?\\n?$`),
  new RegExp(`^CREATE DATABASE /\\*!32312 IF NOT EXISTS\\*/ ${NAME}[ ;]`),
  new RegExp(`^USE ${NAME};\\r?\\n?$`),
];
const HEADER_DATABASE = /^-- Host: .* {4}Database: (.{1,256}?)\r?\n?$/;

/** The database whose section a line starts, if it starts one. */
export function sectionDatabase(line: string): string | undefined {
  for (const re of SECTION_STARTS) {
    const m = re.exec(line);
    if (m) return m[1]!.replace(/``/g, '`');
  }
  return undefined;
}

export function notInSnapshotError(database: string, databases: readonly string[], more = 0): SidestashError {
  const list = databases.length === 0 ? 'no database by name' : `${databases.map((d) => JSON.stringify(d)).join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
  return new SidestashError(ErrorCodes.NOT_IN_SNAPSHOT, `database ${JSON.stringify(database)} is not in the snapshot; it contains ${list}`, { details: { database, databases: [...databases] } });
}

export class OneDatabaseFilter extends Transform {
  readonly #target: string;
  #current: string;
  #head: Buffer[] = [];
  #headBytes = 0;
  /** head: collecting the start of a line; pass/drop/hold: the rest of a long line. */
  #mode: 'head' | 'pass' | 'drop' | 'hold' = 'head';
  /** Whether the target's section (or a dump without sections) was found; before that, lines are held. */
  #decided = false;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #sawSection = false;
  #headerDatabase: string | undefined;
  readonly #seen = new Set<string>();
  #unlisted = 0;

  constructor(database: string) {
    super({ highWaterMark: 1024 * 1024 });
    this.#target = database;
    this.#current = database;
  }

  /** Databases whose sections the dump has shown so far, in order. */
  get databases(): string[] {
    return [...this.#seen];
  }

  #endHead(): Buffer {
    const head = Buffer.concat(this.#head, this.#headBytes);
    this.#head = [];
    this.#headBytes = 0;
    const line = head.toString('utf8');
    const db = sectionDatabase(line);
    if (db !== undefined) {
      this.#current = db;
      this.#sawSection = true;
      if (this.#seen.size < SEEN_NAMES) this.#seen.add(db);
      else if (!this.#seen.has(db)) this.#unlisted++;
    } else if (!this.#sawSection && this.#headerDatabase === undefined) {
      const m = HEADER_DATABASE.exec(line);
      if (m) this.#headerDatabase = m[1]!.trim() || undefined;
    }
    return head;
  }

  #release(): void {
    this.#decided = true;
    for (const b of this.#held) this.push(b);
    this.#held = [];
    this.#heldBytes = 0;
  }

  #hold(b: Buffer): void {
    this.#held.push(b);
    this.#heldBytes += b.length;
  }

  /** A dump with no section line: its header comment's database, if any, must be the target. */
  #decideWithoutSections(): SidestashError | undefined {
    if (this.#headerDatabase !== undefined && this.#headerDatabase !== this.#target) return notInSnapshotError(this.#target, [this.#headerDatabase]);
    this.#release();
    return undefined;
  }

  /** Where a line (or the start of a long one) goes: pushed, held back or dropped. */
  #route(head: Buffer): 'pass' | 'hold' | 'drop' {
    if (!this.#decided && this.#sawSection && this.#current === this.#target) this.#release();
    if (this.#decided) return this.#current === this.#target ? 'pass' : 'drop';
    return this.#sawSection ? 'drop' : (this.#hold(head), 'hold');
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      const nl = chunk.indexOf(0x0a, i);
      const end = nl < 0 ? chunk.length : nl + 1;
      if (this.#mode !== 'head') {
        if (this.#mode === 'pass') this.push(chunk.subarray(i, end));
        else if (this.#mode === 'hold') this.#hold(Buffer.from(chunk.subarray(i, end)));
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
        const route = this.#route(head);
        if (route === 'pass') this.push(head);
        if (!lineEnded) this.#mode = route;
      }
      if (!this.#decided && !this.#sawSection && this.#heldBytes > HELD_BYTES) {
        const err = this.#decideWithoutSections();
        if (err) return cb(err);
      }
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.#headBytes > 0) {
      const head = this.#endHead();
      if (this.#route(head) === 'pass') this.push(head);
    }
    if (!this.#decided) {
      const err = this.#sawSection ? notInSnapshotError(this.#target, this.databases, this.#unlisted) : this.#decideWithoutSections();
      if (err) return cb(err);
    }
    cb();
  }
}
