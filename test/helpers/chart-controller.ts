// The controller container of a Deployment that Helm installed into a real API server, as the
// environment of a host process: each env value as the API server stored it, secretKeyRef values
// read from their Secrets, and every file under a Secret volume's mountPath written from that
// Secret into `dir` (the path rewritten). So a test runs the controller with the chart's own
// configuration and the chart's own generated Secrets (certificates, keys, enrolment hashes).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeApiServer } from './kube-apiserver.ts';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}

interface SecretVolume {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
}

export interface ChartControllerEnv {
  env: Record<string, string>;
  /** mountPath in the container to the directory under `dir` that holds its files. */
  mounts: Record<string, string>;
}

/** `fields`: the downward API's values (fieldRef fieldPath to value), e.g. {'metadata.name': 'sidestash-a'}. */
export async function chartControllerEnv(kube: KubeApiServer, namespace: string, deployment: string, dir: string, container = 'controller', fields: Record<string, string> = {}): Promise<ChartControllerEnv> {
  const dep = JSON.parse(await kube.kubectlOk(['-n', namespace, 'get', 'deployment', deployment, '-o', 'json']));
  const pod = dep.spec.template.spec as { containers: { name: string; env?: EnvVar[]; volumeMounts?: { name: string; mountPath: string }[] }[]; volumes?: SecretVolume[] };
  const c = pod.containers.find((x) => x.name === container);
  if (!c) throw new Error(`deployment ${namespace}/${deployment} has no container ${container}`);
  const secretData = async (name: string): Promise<Record<string, string>> => {
    const s = JSON.parse(await kube.kubectlOk(['-n', namespace, 'get', 'secret', name, '-o', 'json'])) as { data?: Record<string, string> };
    return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  };
  const mounts: Record<string, string> = {};
  for (const m of c.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === m.name);
    if (!volume?.secret) continue;
    const data = await secretData(volume.secret.secretName);
    const local = join(dir, 'mounts', m.name);
    await mkdir(local, { recursive: true, mode: 0o700 });
    const items = volume.secret.items ?? Object.keys(data).map((key) => ({ key, path: key }));
    for (const { key, path } of items) {
      if (data[key] === undefined) throw new Error(`secret ${volume.secret.secretName} has no key ${key}`);
      await writeFile(join(local, path), data[key], { mode: 0o600 });
    }
    mounts[m.mountPath] = local;
  }
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) {
      const mount = Object.keys(mounts).find((p) => e.value!.startsWith(`${p}/`));
      env[e.name] = mount ? `${mounts[mount]}${e.value.slice(mount.length)}` : e.value;
    } else if (e.valueFrom?.secretKeyRef) {
      const { name, key } = e.valueFrom.secretKeyRef;
      const v = (await secretData(name))[key];
      if (v === undefined) throw new Error(`secret ${name} has no key ${key}`);
      env[e.name] = v;
    } else if (e.valueFrom?.fieldRef) {
      const v = e.valueFrom.fieldRef.fieldPath === 'metadata.namespace' ? namespace : fields[e.valueFrom.fieldRef.fieldPath];
      if (v === undefined) throw new Error(`env ${e.name}: no value given for fieldRef ${e.valueFrom.fieldRef.fieldPath}`);
      env[e.name] = v;
    } else throw new Error(`env ${e.name}: only value, secretKeyRef and fieldRef are supported`);
  }
  return { env, mounts };
}
