// informer.ts without a server: relist() ends a watch that went silent and lists again, so the
// cache catches up with what the watch never delivered; a client-side idle timeout is passed to
// every watch (the real API server's side: test/kube-informer.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fakeKubeClient } from '../../test/helpers/fake-kube-client.ts';
import { waitFor } from '../../test/helpers/scenario.ts';
import { Informer, WATCH_IDLE_TIMEOUT_MS } from './informer.ts';
import { ConfigMaps } from './resource-type.ts';
import type { KubeObject } from './resource-type.ts';

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child() { return quiet; } };

test('relist() ends a silent watch and lists again: the cache gets what the watch never delivered', async () => {
  const fake = fakeKubeClient();
  fake.put(ConfigMaps, { metadata: { namespace: 'ns', name: 'a' } });
  const stop = new AbortController();
  const informer = new Informer<KubeObject>(fake.client, { type: ConfigMaps, namespace: 'ns', signal: stop.signal, log: quiet });
  await informer.synced();
  await waitFor('the watch to be open', 10_000, async () => (fake.watches.configmaps === 1 ? true : undefined));
  const b = fake.put(ConfigMaps, { metadata: { namespace: 'ns', name: 'b' } });
  const heard: string[] = [];
  informer.on((type, o) => heard.push(`${type} ${o.metadata.name}`));
  informer.relist();
  informer.relist();
  await waitFor('the list again', 10_000, async () => (informer.get('ns', 'b') ? true : undefined));
  assert.equal(informer.get('ns', 'b')?.metadata.resourceVersion, b.metadata.resourceVersion);
  assert.deepEqual(heard, ['ADDED b']);
  assert.equal(fake.lists.configmaps, 2, 'two calls before the list made one list');
  assert.equal(informer.stats.relists, 1);
  assert.equal(informer.stats.failures, 0, 'a relist is not a failure (no backoff)');
  await waitFor('the watch again', 10_000, async () => (fake.watches.configmaps === 2 ? true : undefined));
  stop.abort();
  await informer.done;
});

test('every watch gets an idle timeout of a few bookmark intervals (a half-open connection ends)', async () => {
  const fake = fakeKubeClient();
  const seen: (number | undefined)[] = [];
  const watch = fake.client.watch.bind(fake.client);
  fake.client.watch = ((type, ns, options) => {
    seen.push(options.idleTimeoutMs);
    return watch(type, ns, options);
  }) as typeof fake.client.watch;
  const stop = new AbortController();
  const informer = new Informer<KubeObject>(fake.client, { type: ConfigMaps, signal: stop.signal, log: quiet });
  await waitFor('the watch to be open', 10_000, async () => (seen.length === 1 ? true : undefined));
  assert.equal(seen[0], WATCH_IDLE_TIMEOUT_MS);
  assert.ok(WATCH_IDLE_TIMEOUT_MS >= 2 * 60_000 && WATCH_IDLE_TIMEOUT_MS <= 3 * 60_000, 'between 2 and 3 of the server\'s 60 s bookmark intervals');
  stop.abort();
  await informer.done;
});
