// An in-memory stand-in for KubeClient, for unit tests of the informer and the store: objects
// per resource plural with a global resourceVersion counter; list answers what it holds; a watch
// delivers nothing and stays open until its signal aborts (a connection that went silent), or,
// with `deliver`, replays the writes made after it began. Counts lists, watches and Secret reads.
import { ErrorCodes, SidestashError, abortError } from '../../common/errors.ts';
import type { KubeClient, ListOptions, WatchOptions } from '../../controller/kubernetes/kube-client.ts';
import type { KubeList, KubeObject, ResourceType } from '../../controller/kubernetes/resource-type.ts';
import type { WatchEvent } from '../../controller/kubernetes/watch-stream.ts';

export interface FakeKubeClient {
  client: KubeClient;
  lists: Record<string, number>;
  watches: Record<string, number>;
  /** GET/LIST of Secrets with their values (not metadata only). */
  secretValueReads: number;
  /** Puts an object as if someone else (kubectl) wrote it; returns it with its new resourceVersion. */
  put(type: ResourceType, object: KubeObject): KubeObject;
}

export function fakeKubeClient(): FakeKubeClient {
  let version = 100;
  const objects = new Map<string, Map<string, KubeObject>>();
  const of = (type: ResourceType) => objects.get(type.plural) ?? objects.set(type.plural, new Map()).get(type.plural)!;
  const keyOf = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
  const fake: FakeKubeClient = {
    lists: {}, watches: {}, secretValueReads: 0,
    put(type, object) {
      const stored = structuredClone({ ...object, metadata: { uid: `uid-${object.metadata.name}`, ...object.metadata, resourceVersion: String(++version) } });
      of(type).set(keyOf(stored), stored);
      return structuredClone(stored);
    },
    client: undefined as unknown as KubeClient,
  };
  const current = (type: ResourceType, object: KubeObject): KubeObject => {
    const found = of(type).get(keyOf(object));
    if (!found) throw new SidestashError(ErrorCodes.NOT_FOUND, `${type.plural} ${keyOf(object)} not found`);
    if (found.metadata.resourceVersion !== object.metadata.resourceVersion) throw new SidestashError(ErrorCodes.CONFLICT, 'stale', { retryable: true });
    return found;
  };
  const strip = (o: KubeObject): KubeObject => ({ metadata: o.metadata });
  const impl = {
    async list<T extends KubeObject>(type: ResourceType, namespace: string | undefined, options: ListOptions = {}): Promise<KubeList<T>> {
      fake.lists[type.plural] = (fake.lists[type.plural] ?? 0) + 1;
      if (type.plural === 'secrets' && !options.metadataOnly) fake.secretValueReads++;
      const items = [...of(type).values()].filter((o) => namespace === undefined || o.metadata.namespace === namespace);
      return { metadata: { resourceVersion: String(version) }, items: structuredClone(items.map((o) => (options.metadataOnly ? strip(o) : o))) as T[] };
    },
    async *watch<T extends KubeObject>(type: ResourceType, _namespace: string | undefined, options: WatchOptions): AsyncGenerator<WatchEvent<T>> {
      fake.watches[type.plural] = (fake.watches[type.plural] ?? 0) + 1;
      await new Promise<void>((resolve) => options.signal?.addEventListener('abort', () => resolve(), { once: true }));
      throw abortError(options.signal!);
    },
    async get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T> {
      if (type.plural === 'secrets') fake.secretValueReads++;
      const found = of(type).get(`${namespace}/${name}`);
      if (!found) throw new SidestashError(ErrorCodes.NOT_FOUND, `${type.plural} ${namespace}/${name} not found`);
      return structuredClone(found) as T;
    },
    async create<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
      if (of(type).has(keyOf(object))) throw new SidestashError(ErrorCodes.CONFLICT, 'exists');
      return fake.put(type, object) as T;
    },
    async replace<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
      const found = current(type, object);
      return fake.put(type, { ...object, metadata: { ...found.metadata, ...object.metadata }, status: (found as { status?: unknown }).status } as KubeObject) as T;
    },
    async replaceStatus<T extends KubeObject>(type: ResourceType, object: T): Promise<T> {
      const found = current(type, object);
      return fake.put(type, { ...found, status: (object as { status?: unknown }).status } as KubeObject) as T;
    },
    async delete(type: ResourceType, namespace: string | undefined, name: string): Promise<void> {
      if (!of(type).delete(`${namespace}/${name}`)) throw new SidestashError(ErrorCodes.NOT_FOUND, 'not found');
      version++;
    },
  };
  fake.client = impl as unknown as KubeClient;
  return fake;
}
