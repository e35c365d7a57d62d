import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { completeAnswer } from './s3-backend.ts';

describe('CompleteMultipartUpload answers of 200', () => {
  const cases: [string, string, { failure?: RegExp; completed: boolean }][] = [
    ['a result', '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Key>k</Key><ETag>"x-2"</ETag></CompleteMultipartUploadResult>', { completed: true }],
    ['a result after keep-alive whitespace', '   \n  \n<CompleteMultipartUploadResult><Key>k</Key></CompleteMultipartUploadResult>', { completed: true }],
    ['an error document', '<?xml version="1.0" encoding="UTF-8"?>\n\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>', { failure: /^InternalError: We encountered/, completed: false }],
    ['an error after keep-alive whitespace', '      <Error><Code>SlowDown</Code></Error>', { failure: /^SlowDown$/, completed: false }],
    ['an error with a code that is no plain word', '<Error><Code>\u001b[31mx y</Code></Error>', { failure: /^Error$/, completed: false }],
    ['nothing', '', { completed: false }],
    ['something else', '<Other/>', { completed: false }],
  ];
  for (const [name, body, want] of cases) {
    it(name, () => {
      const got = completeAnswer(Buffer.from(body));
      assert.equal(got.completed, want.completed);
      if (want.failure) assert.match(got.failure ?? '', want.failure);
      else assert.equal(got.failure, undefined);
    });
  }
});
