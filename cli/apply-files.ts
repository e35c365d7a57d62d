// `sidestash apply -f a.yaml -f b.yaml`: every file is read and parsed here, and all their
// documents go to the controller in one request, so that the all-or-nothing rule covers the
// files together (one problem anywhere applies nothing). Each problem, whether a file's syntax
// here or a document's validation there, names its file and the document's place in it.
import { readFile } from 'node:fs/promises';
import { parseYamlDocuments } from '../controller/api/yaml-documents.ts';
import { ErrorCodes, SidestashError, isSidestashError } from '../common/errors.ts';
import type { ApiClientOptions } from './api-client.ts';
import { api } from './api-client.ts';

export interface SourcedDocument {
  file: string;
  /** 1-based place among the file's resources (a List's items count one by one). */
  document: number;
  doc: unknown;
}

interface FileProblem {
  file: string;
  document?: number;
  field: string;
  message: string;
}

function parseFile(file: string, text: string): unknown[] {
  if (file.endsWith('.json') || /^\s*[[{]/.test(text)) {
    try {
      const parsed = JSON.parse(text) as unknown;
      return Array.isArray(parsed) ? parsed : [parsed];
    } catch (err) {
      throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `invalid JSON: ${(err as Error).message}`);
    }
  }
  return parseYamlDocuments(text);
}

const isList = (d: unknown): d is { items: unknown[] } => !!d && typeof d === 'object' && (d as { kind?: unknown }).kind === 'List' && Array.isArray((d as { items?: unknown }).items);

/** The resources of every file, in order; all files' syntax problems are reported together. */
export async function readApplyDocuments(files: string[], readText: (file: string) => Promise<string>): Promise<SourcedDocument[]> {
  const out: SourcedDocument[] = [];
  const problems: FileProblem[] = [];
  for (const file of files) {
    let docs: unknown[];
    try {
      docs = parseFile(file, await readText(file)).flatMap((d) => (isList(d) ? d.items : [d]));
    } catch (err) {
      const message = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
      problems.push({ file, field: '', message });
      continue;
    }
    if (docs.length === 0) problems.push({ file, field: '', message: 'holds no resources' });
    docs.forEach((doc, i) => out.push({ file, document: i + 1, doc }));
  }
  if (problems.length > 0) {
    throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `nothing was applied: ${problems.map((p) => `${p.file}: ${p.message}`).join('; ')}`, { details: { errors: problems, summary: 'nothing was applied: a file could not be read' } });
  }
  return out;
}

interface ServerProblem {
  document?: unknown;
  kind?: unknown;
  name?: unknown;
  field?: unknown;
  message?: unknown;
}

/** The controller's problems (document = place in the combined request) placed in their files. */
export function placeProblems(problems: ServerProblem[], docs: SourcedDocument[]): ServerProblem[] {
  return problems.map((p) => {
    const src = typeof p.document === 'number' ? docs[p.document - 1] : undefined;
    return src ? { ...p, file: src.file, document: src.document } : p;
  });
}

export async function applyFiles(o: ApiClientOptions, files: string[], readStdin: () => Promise<string>, printWarnings: (warnings: unknown) => void = () => {}): Promise<string> {
  const docs = await readApplyDocuments(files, (f) => (f === '-' ? readStdin() : readFile(f, 'utf8')));
  let res: { results: { kind: string; name: string; outcome: string }[]; warnings?: unknown };
  try {
    res = await api(o, 'POST', '/api/v1/apply', docs.map((d) => d.doc));
  } catch (err) {
    const list = isSidestashError(err) ? err.details.errors : undefined;
    if (!isSidestashError(err) || !Array.isArray(list)) throw err;
    const placed = placeProblems(list as ServerProblem[], docs);
    const where = (p: ServerProblem & { file?: unknown }) => (p.file !== undefined ? `${String(p.file)} document ${String(p.document)}` : `document ${String(p.document ?? '?')}`);
    throw new SidestashError(err.code, `nothing was applied: ${placed.map((p) => `${where(p)} (${String(p.kind ?? '?')} ${String(p.name ?? '?')}): ${String(p.field ?? '')}: ${String(p.message ?? '')}`).join('; ')}`, {
      retryable: err.retryable,
      details: { ...err.details, errors: placed, summary: `nothing was applied: ${placed.length} problem${placed.length === 1 ? '' : 's'}` },
    });
  }
  printWarnings(res.warnings);
  return res.results.map((r) => `${r.kind.toLowerCase()}/${r.name} ${r.outcome}`).join('\n');
}
