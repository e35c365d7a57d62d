import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addedLine, progressView } from './progress-view.ts';
import type { ProgressStatus } from './progress-view.ts';

const MiB = 1024 * 1024;

describe('the --wait progress bar', () => {
  const table: [string, ProgressStatus, number | undefined, { value: number; total: number; percent: string; done: string; totalText: string; eta: string }][] = [
    ['Pending: nothing known, no total of "1"', { phase: 'Pending' }, undefined, { value: 0, total: 1, percent: '--%', done: '0 B', totalText: '?', eta: '-' }],
    ['Running with an estimate', { phase: 'Running', progress: { bytesDumped: 30 * MiB, estimatedTotalBytes: 120 * MiB, rateBytesPerSecond: 10 * MiB, etaSeconds: 9 } }, undefined, { value: 30 * MiB, total: 120 * MiB, percent: '25%', done: '30.0 MiB', totalText: '120.0 MiB', eta: '9s' }],
    ['past the estimate (the agent stops sending it): the earlier one, never below what is done', { phase: 'Running', progress: { bytesDumped: 130 * MiB } }, 120 * MiB, { value: 130 * MiB, total: 130 * MiB, percent: '100%', done: '130.0 MiB', totalText: '130.0 MiB', eta: '-' }],
    ['Running without an estimate', { phase: 'Running', progress: { bytesDumped: 5 * MiB } }, undefined, { value: 0, total: 5 * MiB, percent: '--%', done: '5.0 MiB', totalText: '?', eta: '-' }],
    ['Succeeded below the estimate: full, at the real size', { phase: 'Succeeded', bytesRead: 100 * MiB, progress: { bytesDumped: 90 * MiB, estimatedTotalBytes: 120 * MiB } }, 120 * MiB, { value: 100 * MiB, total: 100 * MiB, percent: '100%', done: '100.0 MiB', totalText: '100.0 MiB', eta: '0s' }],
    ['Succeeded without any progress report', { phase: 'Succeeded', bytesRead: 2048 }, undefined, { value: 2048, total: 2048, percent: '100%', done: '2.0 KiB', totalText: '2.0 KiB', eta: '0s' }],
    ['an empty dump that succeeded', { phase: 'Succeeded', bytesRead: 0 }, undefined, { value: 1, total: 1, percent: '100%', done: '0 B', totalText: '0 B', eta: '0s' }],
    ['fields of the wrong type', { phase: 'Running', progress: { bytesDumped: '5', estimatedTotalBytes: -1, etaSeconds: 'soon' } }, undefined, { value: 0, total: 1, percent: '--%', done: '0 B', totalText: '?', eta: '-' }],
  ];
  for (const [name, st, last, want] of table) {
    it(name, () => {
      const { rate: _rate, ...v } = progressView(st, last);
      assert.deepEqual(v, want);
    });
  }

  it('restic\'s closing line', () => {
    assert.equal(addedLine({ data_added: 300000, data_added_packed: 300263 }, 1), 'Added to the repository: 292.969 KiB (293.226 KiB stored)');
    assert.equal(addedLine(undefined, 300263), 'Added to the repository: 293.226 KiB stored');
    assert.equal(addedLine(undefined, undefined), undefined);
  });
});
