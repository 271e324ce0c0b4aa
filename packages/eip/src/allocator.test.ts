import { describe, expect, it } from 'vitest';
import type { AllocationRequest } from './allocation.js';
import { AllocatorState } from './allocator.js';
import { formatIp, reservedAddresses } from './ip.js';
import { parseEipYaml } from './spec.js';

function pool(
  name: string,
  address: string,
  extra: Record<string, unknown> = {},
  annotations: Record<string, string> = {},
) {
  return {
    apiVersion: 'network.kubesphere.io/v1alpha2',
    kind: 'Eip',
    metadata: { name, annotations },
    spec: { address, ...extra },
  };
}

function stateOf(docs: unknown[]): AllocatorState {
  const parsed = parseEipYaml(docs.map((d) => JSON.stringify(d)).join('\n---\n'));
  const s = new AllocatorState();
  for (const p of parsed.pools) s.setPool(p);
  for (const ns of parsed.namespaces) s.setNamespace(ns);
  return s;
}

function alloc(s: AllocatorState, req: AllocationRequest) {
  const d = s.decide(req);
  s.commit(d);
  return d;
}
const ips = (s: ReturnType<typeof alloc>) => s.addresses.map((a) => a.ip);
const ns = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});

describe('AllocatorState: OpenELB order', () => {
  const docs = [
    pool('default-eip', '10.9.0.1-10.9.0.2', {}, { 'eip.openelb.kubesphere.io/is-default-eip': 'true' }),
    pool('eip-ns', '10.1.0.1-10.1.0.2', { namespaces: ['namespace-1'], priority: 5 }),
    pool('eip-selector', '10.2.0.1-10.2.0.3', { namespaceSelector: { label: 'test' }, priority: 1 }),
    pool('eip', '10.3.0.1-10.3.0.5'),
    pool('off', '10.4.0.1', { namespaces: ['namespace-1'], disable: true }),
    ns('namespace-1', { label: 'test' }),
    ns('namespace-2', { label: 'test' }),
    ns('namespace-3'),
  ];

  it('prefers bound pools by priority (0 highest), then the default pool', () => {
    const s = stateOf(docs);
    expect(ips(alloc(s, { namespace: 'namespace-1', name: 'a' }))).toEqual(['10.2.0.1']); // priority 1 beats 5
    expect(ips(alloc(s, { namespace: 'namespace-2', name: 'a' }))).toEqual(['10.2.0.2']);
    expect(ips(alloc(s, { namespace: 'namespace-3', name: 'a' }))).toEqual(['10.9.0.1']); // only the default
    expect(ips(alloc(s, { namespace: 'namespace-1', name: 'b' }))).toEqual(['10.2.0.3']);
    // eip-selector is full now: non-full pools first.
    expect(ips(alloc(s, { namespace: 'namespace-1', name: 'c' }))).toEqual(['10.1.0.1']);
    // namespace-2 has only the full selector pool bound; OpenELB does not fall back to the default then.
    const p = alloc(s, { namespace: 'namespace-2', name: 'b' });
    expect(p.status).toBe('pending');
    expect(p.condition).toMatchObject({ reason: 'PoolExhausted' });
    expect(p.condition!.message).toMatch(/eip-selector/);
  });

  it('honours a requested pool and a requested IP before namespace binding', () => {
    const s = stateOf(docs);
    expect(ips(alloc(s, { namespace: 'namespace-3', name: 'a', pool: 'eip' }))).toEqual(['10.3.0.1']);
    expect(ips(alloc(s, { namespace: 'namespace-3', name: 'b', ips: ['10.1.0.2'] }))).toEqual(['10.1.0.2']);
    expect(alloc(s, { namespace: 'x', name: 'c', pool: 'nope' }).condition).toMatchObject({
      reason: 'PoolNotFound',
    });
    expect(alloc(s, { namespace: 'x', name: 'd', ips: ['192.0.2.1'] }).condition).toMatchObject({
      reason: 'IpNotInPool',
      message: '192.0.2.1 is not in any Eip',
    });
    expect(alloc(s, { namespace: 'x', name: 'e', ips: ['10.3.0.2'], pool: 'eip-ns' }).condition?.reason).toBe(
      'IpNotInPool',
    );
    expect(alloc(s, { namespace: 'x', name: 'f', pool: 'off' }).condition?.reason).toBe('PoolDisabled');
    expect(alloc(s, { namespace: 'x', name: 'g', ips: ['10.1.0.2'] }).condition?.reason).toBe('IpInUse');
  });

  it('leaves a namespace with no bound pool and no default pending', () => {
    const s = stateOf(docs.filter((d) => d.metadata.name !== 'default-eip'));
    const p = alloc(s, { namespace: 'namespace-3', name: 'a' });
    expect(p).toMatchObject({ status: 'pending', condition: { reason: 'NoPoolForNamespace' } });
  });

  it('keeps disabled pools for existing allocations but gives no new ones', () => {
    const s = stateOf([pool('p', '10.0.0.1-10.0.0.2', { namespaces: ['a'] })]);
    expect(ips(alloc(s, { namespace: 'a', name: 'x' }))).toEqual(['10.0.0.1']);
    s.setPool(
      stateOf([pool('p', '10.0.0.1-10.0.0.2', { namespaces: ['a'], disable: true })]).pools.get('p')!.pool,
    );
    expect(s.decide({ namespace: 'a', name: 'x' }).addresses[0]!.ip).toBe('10.0.0.1');
    expect(alloc(s, { namespace: 'a', name: 'y' }).status).toBe('pending');
    expect(s.usage()[0]).toMatchObject({ used: 1, size: 2, free: 1, disabled: true });
  });
});

describe('AllocatorState: beyond OpenELB', () => {
  it('never moves an address when pools change', () => {
    const s = stateOf([pool('low', '10.0.0.1-10.0.0.9', { namespaces: ['a'], priority: 9 })]);
    expect(ips(alloc(s, { namespace: 'a', name: 'x' }))).toEqual(['10.0.0.1']);
    const more = stateOf([pool('high', '10.5.0.1-10.5.0.9', { namespaces: ['a'], priority: 0 })]);
    s.setPool(more.pools.get('high')!.pool);
    expect(ips(alloc(s, { namespace: 'a', name: 'x' }))).toEqual(['10.0.0.1']);
    expect(ips(alloc(s, { namespace: 'a', name: 'y' }))).toEqual(['10.5.0.1']);
  });

  it('shares an address only with the same sharing key and non-overlapping ports', () => {
    const s = stateOf([pool('p', '10.0.0.1-10.0.0.3', { namespaces: ['a'] })]);
    const dnsUdp = alloc(s, {
      namespace: 'a',
      name: 'dns-udp',
      sharingKey: 'dns',
      ports: [{ port: 53, protocol: 'UDP' }],
    });
    const dnsTcp = alloc(s, {
      namespace: 'a',
      name: 'dns-tcp',
      sharingKey: 'dns',
      ports: [{ port: 53, protocol: 'TCP' }],
    });
    expect(ips(dnsTcp)).toEqual(ips(dnsUdp));
    // Same key, same port: a new address.
    expect(
      ips(
        alloc(s, { namespace: 'a', name: 'dns2', sharingKey: 'dns', ports: [{ port: 53, protocol: 'UDP' }] }),
      ),
    ).toEqual(['10.0.0.2']);
    // Asking for the shared IP with another key is refused with the reason.
    const other = alloc(s, {
      namespace: 'a',
      name: 'web',
      ips: ['10.0.0.1'],
      sharingKey: 'web',
      ports: [{ port: 80, protocol: 'TCP' }],
    });
    expect(other.condition).toMatchObject({ reason: 'IpInUse' });
    expect(other.condition!.message).toMatch(/a\/dns-udp, a\/dns-tcp/);
    // No key at all: never shared.
    expect(alloc(s, { namespace: 'a', name: 'plain', ips: ['10.0.0.2'] }).condition?.reason).toBe('IpInUse');
    expect(s.usage()[0]).toMatchObject({ used: 2, free: 1 });
    // Releasing one holder keeps the address for the other.
    s.remove('a/dns-udp');
    expect(s.holderOf('10.0.0.1')?.services).toEqual(['a/dns-tcp']);
    s.remove('a/dns-tcp');
    expect(s.holderOf('10.0.0.1')).toBeUndefined();
  });

  it('gives dual-stack services one IPv4 and one IPv6 address (Prefer / Require)', () => {
    const s = stateOf([
      pool('v4', '10.0.0.1', { namespaces: ['a'] }),
      pool('v6', '2001:db8::/126', { namespaces: ['a'] }),
    ]);
    const both = alloc(s, { namespace: 'a', name: 'x', ipFamilyPolicy: 'RequireDualStack' });
    expect(ips(both)).toEqual(['10.0.0.1', '2001:db8::1']); // ::0 is the subnet-router anycast address
    const prefer = alloc(s, { namespace: 'a', name: 'y', ipFamilyPolicy: 'PreferDualStack' });
    expect(ips(prefer)).toEqual(['2001:db8::2']); // IPv4 pool full: one family is enough
    const req = alloc(s, { namespace: 'a', name: 'z', ipFamilyPolicy: 'RequireDualStack' });
    expect(req).toMatchObject({ status: 'pending', addresses: [], condition: { reason: 'PoolExhausted' } });
    expect(req.condition!.message).toMatch(/^RequireDualStack: every IPv4 Eip/);
    expect(ips(alloc(s, { namespace: 'a', name: 'w', ipFamilies: ['IPv6'] }))).toEqual(['2001:db8::3']);
    expect(ips(alloc(s, { namespace: 'a', name: 'v', ips: ['2001:db8::3'] }))).toEqual([]);
  });

  it('skips network and broadcast addresses unless the pool allows them', () => {
    const s = stateOf([pool('p', '10.0.0.0/30', { namespaces: ['a'] })]);
    expect(s.usage()[0]!.size).toBe(2);
    expect(ips(alloc(s, { namespace: 'a', name: 'x' }))).toEqual(['10.0.0.1']);
    expect(ips(alloc(s, { namespace: 'a', name: 'y' }))).toEqual(['10.0.0.2']);
    expect(alloc(s, { namespace: 'a', name: 'z' }).condition?.reason).toBe('PoolExhausted');
    expect(alloc(s, { namespace: 'a', name: 'b', ips: ['10.0.0.3'] }).condition?.reason).toBe('IpReserved');
    const open = stateOf([
      pool('p', '10.0.0.0/30', { namespaces: ['a'] }, { 'eip.sprout.dev/allow-network-broadcast': 'true' }),
    ]);
    expect(ips(alloc(open, { namespace: 'a', name: 'x' }))).toEqual(['10.0.0.0']);
    expect(open.usage()[0]!.size).toBe(4);
  });

  it('reuses released addresses lowest first', () => {
    const s = stateOf([pool('p', '10.0.0.1-10.0.0.200', { namespaces: ['a'] })]);
    for (let i = 0; i < 10; i++) alloc(s, { namespace: 'a', name: `s${i}` });
    s.remove('a/s3');
    s.remove('a/s7');
    expect(ips(alloc(s, { namespace: 'a', name: 'n1' }))).toEqual(['10.0.0.4']);
    expect(ips(alloc(s, { namespace: 'a', name: 'n2' }))).toEqual(['10.0.0.8']);
    expect(ips(alloc(s, { namespace: 'a', name: 'n3' }))).toEqual(['10.0.0.11']);
  });

  it('handles huge IPv6 pools without enumerating them', () => {
    const s = stateOf([pool('p', '2001:db8::/64', { namespaces: ['a'] })]);
    expect(s.usage()[0]!.size).toBe(2 ** 64 - 1);
    expect(ips(alloc(s, { namespace: 'a', name: 'x' }))).toEqual(['2001:db8::1']);
  });
});

describe('AllocatorState: free-address search', () => {
  // A model of the search: the lowest address of the pool that is neither held nor reserved.
  function check(address: string, window: number | undefined, reservedCount: number, steps: number) {
    const docs = [pool('p', address, { namespaces: ['a'] })];
    const parsed = parseEipYaml(docs.map((d) => JSON.stringify(d)).join('\n---\n'));
    const s = new AllocatorState(window === undefined ? {} : { bitmapWindow: window });
    s.setPool(parsed.pools[0]!);
    const block = parsed.pools[0]!.block;
    const size = Number(block.last - block.first) + 1;
    const text = (off: number) => formatIp({ family: block.family, value: block.first + BigInt(off) });
    const reserved = new Set(reservedAddresses(block).map((v) => Number(v - block.first)));
    expect(reserved.size).toBe(reservedCount);
    const held = new Map<number, string>(); // offset -> service name
    let seed = 99;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let n = 0;
    for (let step = 0; step < steps; step++) {
      if (held.size && rnd(3) === 0) {
        const offs = [...held.keys()];
        const off = offs[rnd(offs.length)]!;
        s.remove(`a/${held.get(off)!}`);
        held.delete(off);
      } else if (rnd(12) === 0) {
        // Re-applying the pool (e.g. a priority change) keeps what is held.
        s.setPool({ ...parsed.pools[0]!, priority: rnd(5) });
      } else {
        let expected: number | undefined;
        for (let off = 0; off < size; off++) {
          if (!held.has(off) && !reserved.has(off)) {
            expected = off;
            break;
          }
        }
        const name = `s${n++}`;
        const got = alloc(s, { namespace: 'a', name });
        if (expected === undefined) {
          expect(got.status).toBe('pending');
        } else {
          expect(ips(got)).toEqual([text(expected)]);
          held.set(expected, name);
        }
      }
      expect(s.usage()[0]!.used).toBe(held.size);
    }
  }

  it('hands out the lowest free address across bitmap words, releases and re-applies', () => {
    check('10.0.0.0/24', undefined, 2, 1500); // network and broadcast skipped
    check('10.0.0.5-10.0.0.104', undefined, 0, 1500);
  });

  it('searches past the bitmap window address by address', () => {
    check('10.0.0.0/24', 40, 2, 1500);
    check('2001:db8::/120', 33, 1, 1500); // the subnet-router anycast address is skipped
  });
});
