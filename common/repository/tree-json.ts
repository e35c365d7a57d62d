// Tree blobs in restic's canonical JSON, byte for byte what Go's json.Marshal of restic's
// Node struct gives (internal/data/node.go): a tree blob's id is the hash of these bytes, and
// `restic rewrite` / `restic repair snapshots` (0.17+) re-encode every tree they walk and
// refuse ("cannot encode tree without losing information") or rewrite the snapshot when the
// bytes differ. Rules:
// - fields in the Node struct's order: name, type, mode, mtime, atime, ctime, uid, gid, user,
//   group, inode, device_id, size, links, linktarget, device, content, subtree, error;
// - omitempty as in the struct: mode, user, group, inode, device_id, size, links, linktarget,
//   device, subtree and error are left out when zero or empty; name, type, the three times,
//   uid, gid and content are always there (content null when absent);
// - times as Go's RFC3339Nano (time.ts), the zero time as 0001-01-01T00:00:00Z;
// - the name is first quoted with Go's strconv.Quote, quotes removed (restic stores names so);
// - strings escaped as encoding/json does: also <, >, & and U+2028/U+2029 as \u00xx.
// A tree is {"nodes":[...]} and a newline, nodes sorted by name, no duplicates.
import { ErrorCodes, SidestashError } from '../errors.ts';
import type { Id } from './ids.ts';
import { canonicalTime } from './time.ts';

export interface CanonicalNode {
  name: string;
  type: string;
  mode?: number | undefined;
  mtime?: string | undefined;
  atime?: string | undefined;
  ctime?: string | undefined;
  uid: number;
  gid: number;
  user?: string | undefined;
  group?: string | undefined;
  inode?: number | undefined;
  device_id?: number | undefined;
  size?: number | undefined;
  links?: number | undefined;
  linktarget?: string | undefined;
  device?: number | undefined;
  content: Id[] | null;
  subtree?: Id | undefined;
  error?: string | undefined;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** encoding/json's string encoding (HTML-safe, as json.Marshal). */
export function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const SHORT_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };

/** Go's strconv.Quote without the surrounding quotes. */
export function goQuoteInner(s: string): string {
  let out = '';
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    if (c === '"' || c === '\\') out += `\\${c}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd'; // a lone surrogate is not UTF-8: Go sees U+FFFD
    else if (PRINTABLE.test(c)) out += c;
    else if (SHORT_ESCAPES[c]) out += SHORT_ESCAPES[c];
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return out;
}

function time(value: string | undefined, field: string, name: string): string {
  if (value === undefined) return ZERO_TIME;
  const t = canonicalTime(value);
  if (!t) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `tree node ${JSON.stringify(name)}: ${field} ${JSON.stringify(value)} is not an RFC 3339 time`);
  return t;
}

function uint(value: number | undefined, field: string, name: string): number {
  const v = value ?? 0;
  if (!Number.isSafeInteger(v) || v < 0) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `tree node ${JSON.stringify(name)}: ${field} must be a non-negative integer`);
  return v;
}

export function encodeNode(n: CanonicalNode): string {
  const parts: string[] = [`"name":${goJsonString(goQuoteInner(n.name))}`, `"type":${goJsonString(n.type)}`];
  const num = (key: string, v: number | undefined): void => {
    const x = uint(v, key, n.name);
    if (x !== 0) parts.push(`"${key}":${x}`);
  };
  const str = (key: string, v: string | undefined): void => {
    if (v) parts.push(`"${key}":${goJsonString(v)}`);
  };
  num('mode', n.mode);
  for (const key of ['mtime', 'atime', 'ctime'] as const) parts.push(`"${key}":"${time(n[key], key, n.name)}"`);
  parts.push(`"uid":${uint(n.uid, 'uid', n.name)}`, `"gid":${uint(n.gid, 'gid', n.name)}`);
  str('user', n.user);
  str('group', n.group);
  num('inode', n.inode);
  num('device_id', n.device_id);
  num('size', n.size);
  num('links', n.links);
  str('linktarget', n.linktarget);
  num('device', n.device);
  parts.push(`"content":${n.content === null ? 'null' : `[${n.content.map((id) => `"${id}"`).join(',')}]`}`);
  if (n.subtree) parts.push(`"subtree":"${n.subtree}"`);
  str('error', n.error);
  return `{${parts.join(',')}}`;
}

/** A tree blob's bytes; nodes must be sorted by name without duplicates, as restic requires. */
export function encodeCanonicalTree(nodes: readonly CanonicalNode[]): Buffer {
  for (let i = 1; i < nodes.length; i++) {
    if (!(Buffer.compare(Buffer.from(nodes[i - 1]!.name), Buffer.from(nodes[i]!.name)) < 0)) {
      throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `tree nodes not sorted or duplicate: ${JSON.stringify(nodes[i]!.name)}`);
    }
  }
  return Buffer.from(`{"nodes":[${nodes.map(encodeNode).join(',')}]}\n`);
}
