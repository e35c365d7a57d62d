// Reads configuration from environment variables (and *_FILE variants) into typed values,
// collecting every problem so that start-up reports them all at once, each with its variable.
import { readFileSync } from 'node:fs';
import { ErrorCodes, SidestashError } from './errors.ts';
import { MAX_TIMER_MS, parseDurationMs } from './duration.ts';

export class EnvReader {
  readonly #env: Record<string, string | undefined>;
  readonly problems: string[] = [];

  constructor(env: Record<string, string | undefined>) {
    this.#env = env;
  }

  /** A string; NAME_FILE, when set, names a file holding the value (for mounted secrets). */
  string(name: string, fallback?: string): string | undefined {
    const file = this.#env[`${name}_FILE`];
    if (file) {
      try {
        return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        this.problems.push(`${name}_FILE: cannot read ${file}: ${(err as Error).message}`);
        return undefined;
      }
    }
    const v = this.#env[name];
    return v === undefined || v === '' ? fallback : v;
  }

  /** The raw variable, e.g. the path in a NAME_FILE. */
  env(name: string): string | undefined {
    return this.#env[name] || undefined;
  }

  required(name: string, what: string): string {
    const v = this.string(name);
    if (v === undefined) this.problems.push(`${name}: required (${what})`);
    return v ?? '';
  }

  /** A duration in ms, more than zero (zero too with allowZero) and at most `maxMs` (default: the longest a timer can wait). */
  durationMs(name: string, fallback: string, maxMs = MAX_TIMER_MS, { allowZero = false } = {}): number {
    const text = this.string(name, fallback)!;
    const ms = parseDurationMs(text);
    if (ms === undefined || ms < 0 || (ms === 0 && !allowZero)) {
      this.problems.push(`${name}: ${JSON.stringify(text)} is not a duration like 30s, 5m or 1h`);
      return parseDurationMs(fallback)!;
    }
    if (ms > maxMs) {
      this.problems.push(`${name}: ${JSON.stringify(text)} is too long (at most ${maxMs} ms)`);
      return parseDurationMs(fallback)!;
    }
    return ms;
  }

  /** A strict boolean: "true" or "false"; unset is false. */
  flag(name: string): boolean {
    const v = this.string(name, 'false')!;
    if (v !== 'true' && v !== 'false') this.problems.push(`${name}: must be "true" or "false", not ${JSON.stringify(v)}`);
    return v === 'true';
  }

  list(name: string): string[] {
    return (this.string(name) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  }

  check(minLength: number, name: string, value: string): void {
    if (value && value.length < minLength) this.problems.push(`${name}: must be at least ${minLength} characters`);
  }

  /** Throws INVALID_CONFIG listing every problem found. */
  done(component: string): void {
    if (this.problems.length > 0) {
      throw new SidestashError(ErrorCodes.INVALID_CONFIG, `${component} configuration is invalid:\n  ${this.problems.join('\n  ')}`, { details: { problems: this.problems } });
    }
  }
}

/** "host:port" or ":port" or "port". */
export function parseListen(text: string, problems: string[], name: string): { host: string; port: number } {
  const m = /^(?:(.*):)?(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || port > 65535) {
    problems.push(`${name}: ${JSON.stringify(text)} is not host:port`);
    return { host: '127.0.0.1', port: 0 };
  }
  return { host: m[1] || '0.0.0.0', port };
}
