// Kubernetes mode's store for the session manager: resources on the API server (a
// ResourceStore), registered agents in an in-memory directory. Agents talk only to the leader,
// which keeps them in memory: after a failover they get 401 and register again with the new
// leader (their ServiceAccount token is all they need), so nothing about them has to survive in
// etcd. The sqlite mode uses its one file for both (sqlite-store.ts).
import type { Kind, Resource } from '../resources/types.ts';
import type { AgentDirectory, AgentRecord } from './agent-directory.ts';
import type { BatchWrite, ListOptions, Precondition, ResourceListener, ResourceStore } from './resource-store.ts';

export class CombinedStore implements ResourceStore, AgentDirectory {
  readonly #resources: ResourceStore;
  readonly #agents: AgentDirectory;

  constructor(resources: ResourceStore, agents: AgentDirectory) {
    this.#resources = resources;
    this.#agents = agents;
  }

  get atomicBatches(): boolean {
    return this.#resources.atomicBatches;
  }

  get<S = Record<string, unknown>, T = Record<string, unknown>>(kind: Kind, namespace: string, name: string): Promise<Resource<S, T> | undefined> {
    return this.#resources.get<S, T>(kind, namespace, name);
  }

  exists(kind: Kind, namespace: string, name: string): Promise<boolean> {
    return this.#resources.exists(kind, namespace, name);
  }

  list<S = Record<string, unknown>, T = Record<string, unknown>>(kind: Kind, options?: ListOptions): Promise<Resource<S, T>[]> {
    return this.#resources.list<S, T>(kind, options);
  }

  create<S, T>(resource: Resource<S, T>): Promise<Resource<S, T>> {
    return this.#resources.create(resource);
  }

  update<S, T>(resource: Resource<S, T>, precondition: Precondition): Promise<Resource<S, T>> {
    return this.#resources.update(resource, precondition);
  }

  updateStatus<S, T>(resource: Resource<S, T>, precondition: Precondition): Promise<Resource<S, T>> {
    return this.#resources.updateStatus(resource, precondition);
  }

  delete(kind: Kind, namespace: string, name: string, precondition?: Partial<Precondition>): Promise<boolean> {
    return this.#resources.delete(kind, namespace, name, precondition);
  }

  applyBatch(writes: readonly BatchWrite[]): Promise<Resource<unknown, unknown>[]> {
    return this.#resources.applyBatch(writes);
  }

  watch(listener: ResourceListener): () => void {
    return this.#resources.watch(listener);
  }

  putAgent(a: AgentRecord): void {
    this.#agents.putAgent(a);
  }

  getAgent(name: string): AgentRecord | undefined {
    return this.#agents.getAgent(name);
  }

  listAgents(): AgentRecord[] {
    return this.#agents.listAgents();
  }

  touchAgent(name: string, at: string): void {
    this.#agents.touchAgent(name, at);
  }

  close(): void {
    this.#resources.close();
  }
}
