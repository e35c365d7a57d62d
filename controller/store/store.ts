// The controller's stores: the resource store interface (resource-store.ts), its sqlite
// implementation (sqlite-store.ts) and the agent directory (agent-directory.ts). This module
// only names them for the controller's wiring and older imports.
export { SqliteStore as Store } from './sqlite-store.ts';
export type { StoreOptions } from './sqlite-store.ts';
export type { AgentDirectory, AgentRecord } from './agent-directory.ts';
export type { ResourceStore } from './resource-store.ts';
