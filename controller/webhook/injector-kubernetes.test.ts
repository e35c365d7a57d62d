// The webhook's injection in Kubernetes mode: the agent gets a projected ServiceAccount token
// (audience sidestash, one hour, rotated by the kubelet) and SIDESTASH_AGENT_TOKEN_FILE instead
// of the namespace's enrolment token; the patched pod is a valid Pod; the sqlite mode's
// injection is unchanged (webhook.test.ts).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fastJsonPatch from 'fast-json-patch';
import { parse } from 'yaml';
import { validateKube } from '../../test/helpers/kube-validate.ts';
import { AGENT_CONTAINER, decideInjection } from './injector.ts';
import type { InjectionConfig } from './injector.ts';

const EXAMPLE = join(import.meta.dirname, '..', '..', 'charts', 'sidestash', 'examples', 'mariadb-deployment.yaml');
const base: InjectionConfig = { image: 'sidestash:test', controllerUrl: 'https://sidestash.sidestash.svc:7480', tokenSecretName: 'sidestash-agent-token', nativeSidecar: true };

async function examplePod(): Promise<any> {
  const dep = parse(await readFile(EXAMPLE, 'utf8')) as any;
  return { apiVersion: 'v1', kind: 'Pod', metadata: { ...dep.spec.template.metadata, name: 'shop-db-0', namespace: 'shop' }, spec: dep.spec.template.spec };
}

function injected(pod: any, config: InjectionConfig): any {
  const d = decideInjection(pod, 'shop', config);
  assert.ok(d.inject, JSON.stringify(d));
  return fastJsonPatch.applyPatch(structuredClone(pod), d.patch as fastJsonPatch.Operation[], true).newDocument;
}

describe('injection in Kubernetes mode', () => {
  it('mounts a projected ServiceAccount token for audience sidestash and points SIDESTASH_AGENT_TOKEN_FILE at it', async () => {
    const pod = injected(await examplePod(), { ...base, serviceAccountToken: true });
    await validateKube(pod);
    const agent = pod.spec.initContainers.find((c: any) => c.name === AGENT_CONTAINER);
    const env = Object.fromEntries(agent.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    assert.equal(env.SIDESTASH_AGENT_BOOTSTRAP_TOKEN, undefined, 'no shared enrolment token');
    assert.equal(env.SIDESTASH_AGENT_TOKEN_FILE, '/var/run/secrets/sidestash.io/serviceaccount/token');
    const mount = agent.volumeMounts.find((m: any) => m.mountPath === '/var/run/secrets/sidestash.io/serviceaccount');
    assert.equal(mount.readOnly, true);
    const volume = pod.spec.volumes.find((v: any) => v.name === mount.name);
    assert.deepEqual(volume.projected, { sources: [{ serviceAccountToken: { audience: 'sidestash', expirationSeconds: 3600, path: 'token' } }] });
    // Only the agent sees the token.
    for (const c of pod.spec.containers) assert.ok(!(c.volumeMounts ?? []).some((m: any) => m.name === mount.name), c.name);
  });
  it('does not take a volume name the pod uses', async () => {
    const pod = await examplePod();
    pod.spec.volumes = [...(pod.spec.volumes ?? []), { name: 'sidestash-token', emptyDir: {} }];
    const out = injected(pod, { ...base, serviceAccountToken: true });
    await validateKube(out);
    assert.ok(out.spec.volumes.some((v: any) => v.name === 'sidestash-token-1' && v.projected));
  });
  it('the sqlite mode injects the enrolment token and no projected volume', async () => {
    const pod = injected(await examplePod(), base);
    const agent = pod.spec.initContainers.find((c: any) => c.name === AGENT_CONTAINER);
    assert.ok(agent.env.some((e: any) => e.name === 'SIDESTASH_AGENT_BOOTSTRAP_TOKEN'));
    assert.ok(!agent.env.some((e: any) => e.name === 'SIDESTASH_AGENT_TOKEN_FILE'));
    assert.ok(!pod.spec.volumes.some((v: any) => v.projected));
  });
});
