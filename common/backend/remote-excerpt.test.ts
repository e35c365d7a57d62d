// Error messages never echo a remote server's answer beyond a short, printable excerpt: a
// server answering a huge body full of terminal escape sequences and line breaks, to the REST
// and S3 backends.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../errors.ts';
import { REMOTE_EXCERPT_CHARS, remoteExcerpt } from './remote-excerpt.ts';
import { RestBackend } from './rest/rest-backend.ts';
import { S3Backend } from './s3/s3-backend.ts';
import { parseS3Location } from './s3/s3-config.ts';

const NASTY = '\u001b[2J\u001b[31mFAKE: backup succeeded\u001b[0m\r\n\u001b]0;owned\u0007\u202eevil\u0000\n';
const NO_RETRY = { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 };

/** Is this safe to print: short, one line, no control, escape or format characters? */
function assertPrintable(message: string): void {
  assert.ok(message.length < 400, `${message.length} characters`);
  assert.doesNotMatch(message, /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u, JSON.stringify(message));
}

describe('remote answers in error messages', () => {
  let server: Server;
  let base: string;
  let bytesSent = 0;
  before(async () => {
    server = createServer((req, res) => {
      const xmlError = req.url!.includes('s3-xml');
      res.writeHead(xmlError ? 403 : 500, { 'content-type': xmlError ? 'application/xml' : 'text/plain' });
      if (xmlError) res.write(`<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>${NASTY.replace(/\u0000/g, '').repeat(500)}</Message></Error>`);
      // Then 32 MiB of escape sequences, of which the client reads a bounded part.
      const chunk = Buffer.from(NASTY.repeat(4096));
      let sent = 0;
      const more = (): void => {
        while (sent < 32 * 1024 * 1024) {
          sent += chunk.length;
          bytesSent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('error', () => {});
      if (!xmlError) more();
      else res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  it('makes short, printable excerpts', () => {
    assert.equal(remoteExcerpt(NASTY), 'FAKE: backup succeeded evil');
    assert.equal(remoteExcerpt('x'.repeat(1000)), `${'x'.repeat(REMOTE_EXCERPT_CHARS)}…`);
    assert.equal(remoteExcerpt(Buffer.from('a\n\nb')), 'a b');
  });

  it('REST: a huge answer full of escape sequences becomes a short excerpt, read only in part', async () => {
    const b = new RestBackend(`rest:${base}/repo/`, {}, NO_RETRY);
    bytesSent = 0;
    await assert.rejects(b.load({ type: 'keys', name: 'abc' }), (err) => {
      assert.ok(isSidestashError(err, ErrorCodes.BACKEND_IO), String(err));
      assertPrintable(err.message);
      assert.match(err.message, /500 FAKE: backup succeeded evil/);
      return true;
    });
    await b.close();
    assert.ok(bytesSent < 32 * 1024 * 1024, `the client stopped reading (${bytesSent} bytes sent)`);
  });

  it('S3: the error XML message and a non-XML answer become short excerpts', async () => {
    const creds = { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', S3_BUCKET_LOOKUP: 'path' };
    const xml = new S3Backend(parseS3Location(`s3:${base}/s3-xml`, creds), NO_RETRY);
    await assert.rejects(xml.load({ type: 'keys', name: 'abc' }), (err) => {
      assert.ok(isSidestashError(err, ErrorCodes.BACKEND_IO), String(err));
      assertPrintable(err.message);
      assert.match(err.message, /403 AccessDenied: FAKE: backup succeeded evil/);
      return true;
    });
    await xml.close();
    const text = new S3Backend(parseS3Location(`s3:${base}/s3-text`, creds), NO_RETRY);
    await assert.rejects(text.load({ type: 'keys', name: 'abc' }), (err) => {
      assert.ok(isSidestashError(err, ErrorCodes.BACKEND_IO), String(err));
      assertPrintable(err.message);
      return true;
    });
    await text.close();
  });
});
