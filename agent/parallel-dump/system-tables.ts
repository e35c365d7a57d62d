// How mariadb-dump --all-databases (10.11) treats tables whose contents are the server's own:
// the log tables are written as CREATE TABLE IF NOT EXISTS without their rows (a restore keeps
// the target's), InnoDB's persistent statistics as structure only (the target computes its
// own), and tables whose engine holds no rows of its own (MERGE, FEDERATED) as structure only.
// Pure.

export type TableTreatment = 'data' | 'structure-only' | 'create-if-missing';

const CREATE_IF_MISSING = new Set(['general_log', 'slow_log', 'transaction_registry']);
const STRUCTURE_ONLY = new Set(['innodb_index_stats', 'innodb_table_stats']);
const NO_DATA_ENGINES = new Set(['mrg_myisam', 'mrg_isam', 'federated']);

export function tableTreatment(database: string, table: string, engine: string | null | undefined): TableTreatment {
  if (database.toLowerCase() === 'mysql') {
    if (CREATE_IF_MISSING.has(table.toLowerCase())) return 'create-if-missing';
    if (STRUCTURE_ONLY.has(table.toLowerCase())) return 'structure-only';
  }
  if (engine && NO_DATA_ENGINES.has(engine.toLowerCase())) return 'structure-only';
  return 'data';
}
