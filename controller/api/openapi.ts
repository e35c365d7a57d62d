// The controller's OpenAPI 3.1 description, served at /openapi.json. Resource schemas are the
// same JSON Schemas the API validates with (resources/schemas.ts), so the two cannot drift.
import { KINDS, PLURALS } from '../resources/types.ts';
import { resourceSchema } from '../resources/schemas.ts';

const errorBody = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, retryable: { type: 'boolean' }, errors: { type: 'array' } } } },
};
const err = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const ok = (description: string, schema: object = { type: 'object' }) => ({ description, content: { 'application/json': { schema } } });
const nameParam = (example: string) => ({ name: 'name', in: 'path', required: true, example, schema: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$' } });
/** Example names, one per kind (the API fuzz test creates resources with these names). */
export const EXAMPLE_NAMES: Record<string, string> = { Secret: 'example-secret', Repository: 'example-repo', AppBinding: 'example-db', BackupConfiguration: 'example-backup', BackupSession: 'example-backup-session', RestoreSession: 'example-restore' };
/** A list's page (list-pages.ts): without limit the whole list; a full page carries metadata.continue. */
const pageParams = [
  { name: 'labelSelector', in: 'query', required: false, schema: { type: 'string' } },
  { name: 'limit', in: 'query', required: false, description: 'At most this many items; the answer carries metadata.continue when more may follow', schema: { type: 'integer', minimum: 1, maximum: 10_000 } },
  { name: 'continue', in: 'query', required: false, description: 'The metadata.continue of the previous page', schema: { type: 'string' } },
];
const nsParam = { name: 'namespace', in: 'query', required: false, schema: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' } };
const common = { '400': err('Bad request'), '401': err('Missing or wrong token') };

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, unknown> = {
    '/healthz': { get: { operationId: 'healthz', security: [], responses: { '200': ok('Alive') } } },
    '/readyz': { get: { operationId: 'readyz', security: [], responses: { '200': ok('Ready') } } },
    '/api/v1/apply': {
      post: {
        operationId: 'apply',
        summary: 'Create or update resources (all are validated before any is stored)',
        description: 'The body is one resource or a list of them, as JSON; YAML (one or more documents, content type application/yaml) is accepted too. A reference to a Secret, Repository or AppBinding that does not exist is no error (objects may arrive in any order): the answer lists it in warnings (also as Warning: 299 headers), and the resource in status.missingReferences.',
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: { oneOf: [{ $ref: '#/components/schemas/Resource' }, { type: 'array', items: { $ref: '#/components/schemas/Resource' }, minItems: 1, maxItems: 50 }] } },
          },
        },
        responses: { '200': ok('Applied', { type: 'object', properties: { results: { type: 'array' }, warnings: { type: 'array', items: { type: 'string' } } } }), ...common, '409': err('Conflict'), '413': err('Body too large'), '422': err('Invalid documents, every problem with its field path') },
      },
    },
    '/api/v1/agents': { get: { operationId: 'listAgents', responses: { '200': ok('Agents'), ...common } } },
    '/api/v1/agenttokens': {
      get: { operationId: 'listAgentTokens', summary: 'Agent enrolment tokens (configured and issued), without the tokens', responses: { '200': ok('Agent tokens', { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/AgentToken' } } } }), ...common } },
      post: {
        operationId: 'issueAgentToken',
        summary: 'Issue an enrolment token scoped to one namespace (optionally to named AppBindings); the token is in this answer only',
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/AgentTokenRequest' } } } },
        responses: { '201': ok('Issued', { allOf: [{ $ref: '#/components/schemas/AgentToken' }, { type: 'object', required: ['token'], properties: { token: { type: 'string' } } }] }), ...common, '413': err('Body too large'), '422': err('Invalid request, every problem with its field') },
      },
    },
    '/api/v1/agenttokens/{id}': {
      delete: {
        operationId: 'revokeAgentToken',
        summary: 'Revoke an issued token; agents enrolled with it lose access',
        parameters: [{ name: 'id', in: 'path', required: true, example: 'at-000000000000', schema: { type: 'string' } }],
        responses: { '200': ok('Revoked', { $ref: '#/components/schemas/AgentToken' }), ...common, '404': err('Not found'), '409': err('A configured token (environment or file) cannot be revoked here') },
      },
    },
  };
  for (const kind of KINDS) {
    const plural = PLURALS[kind];
    paths[`/api/v1/${plural}`] = { get: { operationId: `list${kind}`, parameters: [nsParam, ...pageParams], responses: { '200': ok(`${kind} list`), ...common } } };
    paths[`/api/v1/${plural}/{name}`] = {
      parameters: [nameParam(EXAMPLE_NAMES[kind]!), nsParam],
      get: { operationId: `get${kind}`, responses: { '200': ok(kind, { $ref: `#/components/schemas/${kind === 'Secret' ? 'SecretView' : kind}` }), ...common, '404': err('Not found') } },
      delete: {
        operationId: `delete${kind}`,
        ...(kind === 'Secret' || kind === 'Repository' ? { parameters: [{ name: 'force', in: 'query', required: false, description: 'Delete even while other resources name it (they show it in status.missingReferences)', schema: { type: 'boolean' } }] } : {}),
        responses: { '200': ok('Deleted'), ...common, '404': err('Not found'), '409': err(kind === 'Secret' || kind === 'Repository' ? 'In use (the message and details.users list the users); see force' : 'Running sessions cannot be deleted') },
      },
    };
  }
  paths['/api/v1/backupconfigurations/{name}/trigger'] = { post: { operationId: 'triggerBackup', parameters: [nameParam(EXAMPLE_NAMES.BackupConfiguration!), nsParam], responses: { '201': ok('BackupSession created'), ...common, '404': err('Not found'), '409': err('A session is pending or running') } } };
  for (const kind of ['BackupSession', 'RestoreSession'] as const) {
    paths[`/api/v1/${PLURALS[kind]}/{name}/cancel`] = { post: { operationId: `cancel${kind}`, parameters: [nameParam(EXAMPLE_NAMES[kind]!), nsParam], responses: { '200': ok('Cancelled or cancel requested'), ...common, '404': err('Not found'), '409': err('Already finished') } } };
  }
  paths['/api/v1/repositories/{name}/snapshots'] = { get: { operationId: 'listSnapshots', parameters: [nameParam(EXAMPLE_NAMES.Repository!), nsParam], responses: { '200': ok('Snapshots'), ...common, '404': err('Not found'), '409': err('The repository refers to a missing or unusable secret'), '502': err('The repository could not be opened'), '500': err('The backend failed') } } };
  const schemas: Record<string, unknown> = { Error: errorBody, Resource: { oneOf: KINDS.map((k) => ({ $ref: `#/components/schemas/${k}` })) } };
  for (const k of KINDS) schemas[k] = resourceSchema(k);
  schemas.AgentTokenRequest = {
    type: 'object',
    required: ['namespace'],
    additionalProperties: false,
    properties: {
      namespace: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' },
      targets: { type: 'array', minItems: 1, maxItems: 64, items: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$' } },
      description: { type: 'string', maxLength: 256 },
    },
  };
  schemas.AgentToken = {
    type: 'object',
    required: ['id', 'namespace', 'source'],
    properties: { id: { type: 'string' }, namespace: { type: 'string' }, targets: { type: 'array', items: { type: 'string' } }, description: { type: 'string' }, source: { enum: ['api', 'env', 'file'] }, createdAt: { type: 'string' }, revokedAt: { type: 'string' } },
  };
  // Secret values never leave the controller: reads show each key with the value [REDACTED].
  schemas.SecretView = {
    type: 'object',
    required: ['kind', 'metadata', 'spec'],
    properties: { apiVersion: { type: 'string' }, kind: { const: 'Secret' }, metadata: { type: 'object' }, spec: { type: 'object', properties: { data: { type: 'object', additionalProperties: { const: '[REDACTED]' } } }, additionalProperties: false } },
  };
  return {
    openapi: '3.1.0',
    info: { title: 'sidestash controller API', version: '1', description: 'Stash-like resources for MariaDB backup and restore. Agents use /api/v1/agents/... with their own tokens (enrolment tokens to register, then a per-agent token).' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas },
    paths,
  };
}
