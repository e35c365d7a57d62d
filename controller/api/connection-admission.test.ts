// The admission decision on tables: under the cap and the address's share a new connection is
// accepted; over its address's share it takes the place of that address's oldest idle
// unauthenticated connection; at the cap that of the address holding the most unauthenticated
// connections; an agent's idle connection gives way only when none is unauthenticated; busy
// ones never. And the address a share is counted by (IPv6 by its /64).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressKey, admitConnection, countOpen } from './connection-admission.ts';
import type { OpenConnection } from './connection-admission.ts';

// 'name@address', then '*' busy, '+' an agent's: 'a@1*+' is a busy agent connection from 1;
// '*<ms>' busy, and open since that time: 'a@1*100'.
const conn = (spec: string): OpenConnection<string> => {
  const [name, rest] = spec.split('@') as [string, string];
  const since = /\*(\d+)/.exec(rest);
  return { conn: name, address: rest.split(/[*+]/)[0]!, busy: rest.includes('*') ? 1 : 0, agent: rest.includes('+'), ...(since ? { openedAtMs: Number(since[1]) } : {}) };
};

describe('admitConnection', () => {
  const table: { name: string; open: string[]; from: string; max: number; share: number; want: unknown }[] = [
    { name: 'under the cap and the share', open: ['a@1'], from: '1', max: 2, share: 2, want: { accept: true } },
    { name: 'at the cap: the oldest idle gives way (one address)', open: ['a@1*', 'b@1', 'c@1'], from: '1', max: 3, share: 10, want: { accept: true, evict: 'b', why: 'cap' } },
    { name: 'at the cap, all busy: refused', open: ['a@1*', 'b@1*'], from: '1', max: 2, share: 10, want: { accept: false, why: 'cap' } },
    { name: 'over the cap (lowered): still one idle evicted', open: ['a@1', 'b@1'], from: '1', max: 1, share: 10, want: { accept: true, evict: 'a', why: 'cap' } },
    { name: 'at the cap: the address holding the most gives way, not the oldest connection', open: ['a@1', 'b@2', 'c@2', 'd@2'], from: '3', max: 4, share: 4, want: { accept: true, evict: 'b', why: 'cap' } },
    { name: 'at the cap: agents\' idle connections are kept while an unauthenticated one may go', open: ['a@1+', 'b@1+', 'c@1+', 'd@2'], from: '2', max: 4, share: 4, want: { accept: true, evict: 'd', why: 'cap' } },
    { name: 'agents\' connections do not make their address the biggest holder', open: ['a@1+', 'b@1+', 'c@1+', 'd@1', 'e@2', 'f@2'], from: '3', max: 6, share: 6, want: { accept: true, evict: 'e', why: 'cap' } },
    { name: 'an unauthenticated connection from the agents\' address is not an agent\'s', open: ['a@1+', 'b@1', 'c@2*'], from: '2', max: 3, share: 3, want: { accept: true, evict: 'b', why: 'cap' } },
    { name: 'at the cap, the flood\'s connections busy: agents\' idle ones are kept, the new one refused', open: ['a@1+', 'b@1+', 'c@2*', 'd@2*'], from: '2', max: 4, share: 4, want: { accept: false, why: 'cap' } },
    { name: 'at the cap, a busy unauthenticated one anywhere: agents\' idle ones are kept', open: ['a@1+', 'b@1+', 'c@3*'], from: '2', max: 3, share: 3, want: { accept: false, why: 'cap' } },
    { name: 'the cap full of agents\' connections: the oldest idle agent\'s gives way', open: ['a@1+*', 'b@2+', 'c@1+'], from: '3', max: 3, share: 3, want: { accept: true, evict: 'b', why: 'cap' } },
    { name: 'the cap full of busy agents\' connections: refused', open: ['a@1+*', 'b@2+*'], from: '3', max: 2, share: 2, want: { accept: false, why: 'cap' } },
    { name: 'over its share, under the cap: the address\'s own oldest idle gives way', open: ['a@2', 'b@1*', 'c@1', 'd@1'], from: '1', max: 100, share: 3, want: { accept: true, evict: 'c', why: 'address-share' } },
    { name: 'over its share, all its connections busy: refused, others untouched', open: ['a@2', 'b@1*', 'c@1*'], from: '1', max: 100, share: 2, want: { accept: false, why: 'address-share' } },
    { name: 'agents behind one address are not counted against its share', open: ['a@1+', 'b@1+', 'c@1+', 'd@1'], from: '1', max: 100, share: 2, want: { accept: true } },
    { name: 'another address is not limited by one at its share', open: ['a@1', 'b@1'], from: '2', max: 100, share: 2, want: { accept: true } },
  ];
  for (const t of table) {
    it(t.name, () => {
      const open = t.open.map(conn);
      assert.deepEqual(admitConnection(open, countOpen(open), t.from, { maxConnections: t.max, maxConnectionsPerAddress: t.share }), t.want);
    });
  }
});

describe('admitConnection: busy unauthenticated connections open for longer than the request timeout (1000 ms here, now 5000)', () => {
  // Addresses are single letters here, so that the time reads apart: 'a@x*100' is busy, open since 100 ms.
  const table: { name: string; open: string[]; from: string; max: number; share: number; want: unknown }[] = [
    { name: 'at the cap, all busy, some for longer than the limit: the oldest gives way', open: ['a@x*4500', 'b@y*3000', 'c@x*1000'], from: 'z', max: 3, share: 3, want: { accept: true, evict: 'c', why: 'cap' } },
    { name: 'a connection open for long is not made new by its latest request (request after request)', open: ['a@x*0', 'b@y*4800'], from: 'z', max: 2, share: 2, want: { accept: true, evict: 'a', why: 'cap' } },
    { name: 'at the cap, all busy within the limit: refused', open: ['a@x*4500', 'b@y*4100'], from: 'z', max: 2, share: 2, want: { accept: false, why: 'cap' } },
    { name: 'an idle unauthenticated connection gives way before a long busy one', open: ['a@x*100', 'b@y'], from: 'z', max: 2, share: 2, want: { accept: true, evict: 'b', why: 'cap' } },
    { name: 'a long poll (an agent\'s busy connection) never gives way', open: ['a@x+*100', 'b@y*4900'], from: 'z', max: 2, share: 2, want: { accept: false, why: 'cap' } },
    { name: 'a long busy unauthenticated connection gives way before an agent\'s idle one', open: ['a@x+', 'b@y*100'], from: 'z', max: 2, share: 2, want: { accept: true, evict: 'b', why: 'cap' } },
    { name: 'over its share, all busy: its own oldest past the limit gives way, not another address\'s', open: ['a@y*100', 'b@x*3000', 'c@x*2000', 'd@x*4500'], from: 'x', max: 100, share: 3, want: { accept: true, evict: 'c', why: 'address-share' } },
    { name: 'over its share, all busy within the limit: refused', open: ['a@y*100', 'b@x*4500', 'c@x*4200'], from: 'x', max: 100, share: 2, want: { accept: false, why: 'address-share' } },
  ];
  for (const t of table) {
    it(t.name, () => {
      const open = t.open.map(conn);
      assert.deepEqual(admitConnection(open, countOpen(open), t.from, { maxConnections: t.max, maxConnectionsPerAddress: t.share, busyGivesWayAfterMs: 1000 }, 5000), t.want);
    });
  }
  it('without a limit, busy connections never give way', () => {
    const open = ['a@x*0', 'b@y*0'].map(conn);
    assert.deepEqual(admitConnection(open, countOpen(open), 'z', { maxConnections: 2, maxConnectionsPerAddress: 2 }, 1e12), { accept: false, why: 'cap' });
  });
});

describe('addressKey', () => {
  const table: { text: string | undefined; want: string }[] = [
    { text: '192.0.2.7', want: '192.0.2.7' },
    { text: '::ffff:192.0.2.7', want: '192.0.2.7' },
    { text: '::FFFF:192.0.2.7', want: '192.0.2.7' },
    { text: '2001:db8:0:1::5', want: '2001:db8:0:1::/64' },
    { text: '2001:db8:0:1:aaaa:bbbb:cccc:dddd', want: '2001:db8:0:1::/64' },
    { text: '2001:0db8:0000:0001:0:0:0:1', want: '2001:db8:0:1::/64' },
    { text: '2001:db8::1', want: '2001:db8:0:0::/64' },
    { text: '::1', want: '0:0:0:0::/64' },
    { text: 'fe80::1%eth0', want: 'fe80:0:0:0::/64' },
    { text: '64:ff9b::192.0.2.7', want: '64:ff9b:0:0::/64' },
    { text: undefined, want: 'unknown' },
    { text: '1:2:3', want: '1:2:3' },
    { text: '1::2::3', want: '1::2::3' },
  ];
  for (const t of table) it(`${String(t.text)} -> ${t.want}`, () => assert.equal(addressKey(t.text), t.want));
  it('one /64 is one share, the next /64 another', () => assert.notEqual(addressKey('2001:db8:0:1::5'), addressKey('2001:db8:0:2::5')));
});
