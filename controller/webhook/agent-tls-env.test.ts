import assert from 'node:assert/strict';
import { it } from 'node:test';
import { controllerTlsEnv } from './agent-tls-env.ts';

it("gives injected agents the controller's CA, or the insecure flag when the controller serves plain HTTP", () => {
  const table: [Parameters<typeof controllerTlsEnv>[0], Record<string, string>][] = [
    [{ controllerCaCert: 'PEM' }, { SIDESTASH_CONTROLLER_CA: 'PEM' }],
    [{ insecureHttp: true }, { SIDESTASH_INSECURE_HTTP: 'true' }],
    [{ insecureHttp: false }, {}],
    [{}, {}],
  ];
  for (const [config, expected] of table) assert.deepEqual(Object.fromEntries(controllerTlsEnv(config).map((e) => [e.name, e.value])), expected, JSON.stringify(config));
});
