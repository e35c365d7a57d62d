// The CLI as a person and as a script meet it, against one real controller: errors as plain
// text on a terminal (a pseudo-terminal through `script`) and as JSON lines through pipes,
// "did you mean", every command's --help without a server, version, completion scripts, and a
// multi-file apply that names the file and document of every problem and applies nothing.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { COMMANDS } from '../cli/command-help.ts';
import { REPO_VERBS } from '../cli/repo-help.ts';
import { runCliOnTerminal, runCliProcess } from './helpers/cli-process.ts';
import { startController } from './helpers/stack.ts';
import type { ControllerProc } from './helpers/stack.ts';
import { tempDir } from './helpers/tmp.ts';

let tmp: { path: string; cleanup: () => Promise<void> };
let controller: ControllerProc;
const file = (name: string) => join(tmp.path, name);

const secret = (name: string) => `apiVersion: sidestash.io/v1\nkind: Secret\nmetadata:\n  name: ${name}\nspec:\n  stringData:\n    RESTIC_PASSWORD: pw-${name}\n`;
const badConfig = `apiVersion: sidestash.io/v1
kind: BackupConfiguration
metadata:
  name: nightly
spec:
  schedule: "every night"
  scheduel: "0 1 * * *"
  repository:
    name: repo
  target:
    ref:
      kind: AppBinding
      name: db
`;

before(async () => {
  tmp = await tempDir('sidestash-cli-errors-');
  controller = await startController(tmp.path);
  await writeFile(file('a.yaml'), `${secret('a-one')}---\n${badConfig}`);
  await writeFile(file('b.yaml'), `${secret('b-one')}---\n${secret('b-two')}---\napiVersion: sidestash.io/v1\nkind: Secret\nmetadata:\n  name: b-three\nspec:\n  data:\n    RESTIC_PASSWORD: "not base64!"\n`);
  await writeFile(file('good-1.yaml'), secret('good-one'));
  await writeFile(file('good-2.json'), JSON.stringify({ apiVersion: 'sidestash.io/v1', kind: 'Secret', metadata: { name: 'good-two' }, spec: { stringData: { RESTIC_PASSWORD: 'x' } } }));
  await writeFile(file('broken.yaml'), 'kind: Secret\n  metadata: [\n');
});
after(async () => {
  await controller?.stop();
  await tmp?.cleanup();
});

async function secretNames(): Promise<string[]> {
  const r = await runCliProcess(['get', 'secrets', '-o', 'json'], { env: controller.cliEnv });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { items: { metadata: { name: string } }[] }).items.map((s) => s.metadata.name).sort();
}

describe('multi-file apply', () => {
  it('names the file and document of every problem, and applies nothing of any file', async () => {
    const r = await runCliProcess(['apply', '-f', file('a.yaml'), '-f', file('b.yaml')], { env: controller.cliEnv });
    assert.equal(r.code, 1, r.stderr);
    const line = JSON.parse(r.stderr.trim()) as { code: string; errors: { file: string; document: number; field: string; message: string }[] };
    assert.equal(line.code, 'SIDESTASH_VALIDATION_FAILED');
    const places = line.errors.map((e) => `${e.file.slice(tmp.path.length + 1)}#${e.document} ${e.field}`).sort();
    assert.deepEqual(places, ['a.yaml#2 spec.schedule', 'a.yaml#2 spec.scheduel', 'b.yaml#3 spec.data.RESTIC_PASSWORD'].sort());
    assert.deepEqual(await secretNames(), [], 'nothing applied, not even the valid documents');
  });

  it('reports an unreadable or broken file by name and applies nothing', async () => {
    const r = await runCliProcess(['apply', '-f', file('good-1.yaml'), '-f', file('broken.yaml'), '-f', file('missing.yaml')], { env: controller.cliEnv });
    assert.equal(r.code, 2, r.stderr);
    const line = JSON.parse(r.stderr.trim()) as { errors: { file: string; message: string }[] };
    assert.deepEqual(line.errors.map((e) => e.file), [file('broken.yaml'), file('missing.yaml')]);
    assert.match(line.errors[1]!.message, /no such file/);
    assert.deepEqual(await secretNames(), []);
  });

  it('applies valid files together', async () => {
    const r = await runCliProcess(['apply', '-f', file('good-1.yaml'), '-f', file('good-2.json')], { env: controller.cliEnv });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await secretNames(), ['good-one', 'good-two']);
  });
});

describe('errors on a terminal and through pipes', () => {
  it('on a terminal: plain text, real line breaks, field paths grouped by file and document, no JSON', async () => {
    const r = await runCliOnTerminal(['apply', '-f', file('a.yaml'), '-f', file('b.yaml')], { env: controller.cliEnv });
    assert.equal(r.code, 1, r.output);
    const lines = r.output.split('\r\n');
    assert.equal(lines[0], 'error: nothing was applied: 3 problems (SIDESTASH_VALIDATION_FAILED)');
    assert.equal(lines[1], `  ${file('a.yaml')}, document 2 (BackupConfiguration nightly):`);
    assert.match(r.output, /\r\n {4}spec\.schedule: "every night" is not a cron expression: it has 2 fields, not 5 to 7; accepted: five fields/);
    assert.match(r.output, /\r\n {4}spec\.scheduel: unknown field \(did you mean schedule\?\)\r\n/);
    assert.match(r.output, new RegExp(`\\r\\n  ${file('b.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, document 3 \\(Secret b-three\\):\\r\\n {4}spec\\.data\\.RESTIC_PASSWORD: must be base64-encoded`));
    assert.doesNotMatch(r.output, /"level"|\{"time"/);
  });

  it('on a terminal: an unknown command or option says "did you mean" and exits 2', async () => {
    const cmd = await runCliOnTerminal(['aplly', '-f', 'x.yaml'], { env: controller.cliEnv });
    assert.equal(cmd.code, 2);
    assert.equal(cmd.output, 'error: unknown command "aplly" (did you mean apply?) (SIDESTASH_INVALID_ARGUMENT)\r\nrun "sidestash --help" for usage\r\n');
    const opt = await runCliOnTerminal(['get', 'secrets', '--ouput', 'json'], { env: controller.cliEnv });
    assert.equal(opt.code, 2);
    assert.match(opt.output, /^error: unknown option --ouput \(did you mean --output\?\) \(SIDESTASH_INVALID_ARGUMENT\)\r\n/);
    const verb = await runCliOnTerminal(['repo', 'snapshot'], {});
    assert.equal(verb.code, 2);
    assert.match(verb.output, /^error: unknown command "snapshot" for "sidestash repo" \(did you mean snapshots\?\)/);
  });

  it('through a pipe: one JSON line; --log-format chooses either way', async () => {
    const piped = await runCliProcess(['aplly'], { env: controller.cliEnv });
    assert.equal(piped.code, 2);
    const lines = piped.stderr.trim().split('\n');
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]!) as { level: string; code: string; msg: string };
    assert.equal(line.level, 'error');
    assert.equal(line.code, 'SIDESTASH_INVALID_ARGUMENT');
    assert.match(line.msg, /did you mean apply\?/);
    const text = await runCliProcess(['--log-format', 'text', 'aplly'], { env: controller.cliEnv });
    assert.match(text.stderr, /^error: unknown command "aplly" \(did you mean apply\?\) \(SIDESTASH_INVALID_ARGUMENT\)\n/);
    const json = await runCliOnTerminal(['aplly', '--log-format=json'], { env: controller.cliEnv });
    assert.equal((JSON.parse(json.output.trim()) as { code: string }).code, 'SIDESTASH_INVALID_ARGUMENT');
    const bad = await runCliProcess(['--log-format', 'xml', 'version'], {});
    assert.equal(bad.code, 2);
  });

  it('server text cannot drive the terminal: escape sequences in a problem are removed', async () => {
    await writeFile(file('esc.yaml'), `${secret('e')}  "\u001b]0;owned\u0007evil": 1\n`);
    const r = await runCliOnTerminal(['apply', '-f', file('esc.yaml')], { env: controller.cliEnv });
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.output, /\u001b\]/);
    assert.match(r.output, /\r\n {4}spec\.evil: unknown field/);
  });
});

describe('help, version and completion need no token and no server', () => {
  let server: Server;
  let connections = 0;
  let env: Record<string, string>;
  before(async () => {
    server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    env = { SIDESTASH_URL: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, SIDESTASH_ADMIN_TOKEN: 'y'.repeat(32), RESTIC_REPOSITORY: `rest:http://127.0.0.1:${(server.address() as AddressInfo).port}/`, RESTIC_PASSWORD: 'x', SIDESTASH_LISTEN: 'nowhere' };
    // (SIDESTASH_LISTEN: a controller that started anyway would stop at once on its configuration.)
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const invocations: string[][] = [];
  for (const [name, c] of Object.entries(COMMANDS)) {
    invocations.push([name, '--help'], [name, '-h']);
    for (const sub of Object.keys(c.sub ?? {})) invocations.push([name, sub, '--help']);
  }
  invocations.push(['help', 'get'], ['help', 'agenttoken', 'revoke'], ['repo', 'forget', '--keep-last', '1', '--help']);

  it('`COMMAND [SUB] --help` prints only that usage, exits 0 and contacts nothing', async () => {
    for (const args of invocations) {
      const r = await runCliProcess(args, { env });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      const [cmd, sub] = args[0] === 'help' && !args[1]!.startsWith('-') ? args.slice(1) : args;
      // Every usage line (and example) names this command only.
      const named = [...r.stdout.matchAll(/^(?:usage: +| +)sidestash ([a-z]+)/gm)];
      assert.ok(named.length > 0, `${args.join(" ")}:\n${r.stdout}`);
      assert.ok(r.stdout.startsWith(`usage: sidestash ${cmd}`), `${args.join(' ')}:\n${r.stdout}`);
      for (const m of named) assert.equal(m[1], cmd, `${args.join(' ')} shows another command's usage:\n${r.stdout}`);
      if (sub && !sub.startsWith('-') && (COMMANDS[cmd!]!.sub?.[sub] !== undefined)) {
        assert.ok(r.stdout.startsWith(`usage: sidestash ${cmd} ${sub}`), `${args.join(' ')}:\n${r.stdout}`);
      }
    }
    assert.equal(connections, 0, 'no command connected to a server');
  });

  it('describe and delete refuse agents before contacting the server; completion does not offer them there', async () => {
    for (const verb of ['describe', 'delete']) {
      const r = await runCliProcess([verb, 'agent', 'edge-1'], { env });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`${verb} does not take agents`));
    }
    assert.equal(connections, 0, 'refused before any request');
    const script = await runCliProcess(['completion', 'bash'], {});
    await writeFile(file('kinds.bash'), script.stdout);
    const complete = async (...words: string[]) => (await promisify(execFile)('bash', ['-c', `source ${JSON.stringify(file('kinds.bash'))}; COMP_WORDS=(${words.join(' ')}); COMP_CWORD=${words.length - 1}; _sidestash; echo "\${COMPREPLY[*]}"`])).stdout.trim();
    assert.equal(await complete('sidestash', 'get', 'a'), 'appbindings agents');
    assert.equal(await complete('sidestash', 'describe', 'a'), 'appbindings');
    assert.equal(await complete('sidestash', 'delete', 'a'), 'appbindings');
  });

  it('`controller --help` and `agent --help` start nothing (no configuration needed)', async () => {
    for (const c of ['controller', 'agent']) {
      const r = await runCliProcess([c, '--help'], { env: { SIDESTASH_LISTEN: 'nowhere' } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^usage: sidestash ${c}\\n`));
    }
  });

  it('`version` and `--version` need no token', async () => {
    for (const v of ['version', '--version']) {
      const r = await runCliProcess([v], {});
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^sidestash 0\.1\.0 \((node v|deno )[\d.]+, \w+\/\w+\)\n$/);
    }
  });

  it('`completion bash` is a valid script that completes commands, kinds and repo verbs', async () => {
    const r = await runCliProcess(['completion', 'bash'], {});
    assert.equal(r.code, 0, r.stderr);
    await writeFile(file('completion.bash'), r.stdout);
    assert.equal(spawnSync('bash', ['-n', file('completion.bash')]).status, 0);
    const complete = async (...words: string[]) => {
      const script = `source ${JSON.stringify(file('completion.bash'))}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _sidestash; echo "\${COMPREPLY[*]}"`;
      return (await promisify(execFile)('bash', ['-c', script])).stdout.trim();
    };
    assert.equal(await complete('sidestash', 'ap'), 'apply');
    assert.equal(await complete('sidestash', 'get', 'backup'), 'backupconfigurations backupsessions');
    assert.equal(await complete('sidestash', 'repo', 'sn'), 'snapshots');
    assert.equal(await complete('sidestash', 'repo', 'forget', '--keep-l'), '--keep-last');
    assert.equal(await complete('sidestash', 'agenttoken', 're'), 'revoke');
    assert.equal(await complete('sidestash', 'completion', ''), 'bash zsh');
  });

  it('`completion zsh` is a #compdef script that zsh -n accepts', async () => {
    const r = await runCliProcess(['completion', 'zsh'], {});
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^#compdef sidestash\n/);
    for (const verb of Object.keys(REPO_VERBS)) assert.match(r.stdout, new RegExp(`\\b${verb}\\)`));
    await writeFile(file('_sidestash'), r.stdout);
    const zsh = spawnSync('zsh', ['-n', file('_sidestash')]);
    assert.ifError(zsh.error); // zsh: installed by scripts/setup.sh
    assert.equal(zsh.status, 0, zsh.stderr.toString());
    const bad = await runCliProcess(['completion', 'fish'], {});
    assert.equal(bad.code, 2);
  });
});
