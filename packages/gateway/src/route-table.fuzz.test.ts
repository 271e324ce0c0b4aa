import { describe, expect, it } from 'vitest';
import { normalizeHost, RouteTable, type RouteMatch } from './route-table.js';

/** A small deterministic PRNG so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const LABELS = ['a', 'b', 'api', 'x'];
const SEGMENTS = ['a', 'b', 'ab', 'api', 'v2'];

function randomHost(r: () => number): string {
  const n = 1 + Math.floor(r() * 3);
  return Array.from({ length: n }, () => pick(r, LABELS)).join('.') + '.test';
}
function randomPath(r: () => number): string {
  const n = Math.floor(r() * 4);
  return '/' + Array.from({ length: n }, () => pick(r, SEGMENTS)).join('/');
}

function greater(a: number[], b: number[]): boolean {
  for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return a[j]! > b[j]!;
  return false;
}

/** The lookup written the slow, obvious way: score every route, keep the best. */
function reference(
  routes: RouteMatch[],
  host: string,
  url: string,
  headers: Record<string, string>,
): number | undefined {
  const h = normalizeHost(host);
  const path = url.split('?')[0]!;
  let best: { key: number[]; i: number } | undefined;
  routes.forEach((m, i) => {
    const hosts = m.hosts?.length ? m.hosts : ['*'];
    let tier: number[] | undefined;
    for (const p of hosts) {
      const k =
        p === '*'
          ? [1, 0]
          : p.startsWith('*.')
            ? h.endsWith(p.slice(1)) && h.length > p.length - 1
              ? [2, p.length]
              : undefined
            : h === p
              ? [3, 0]
              : undefined;
      if (k && (!tier || k[0]! > tier[0]! || (k[0] === tier[0] && k[1]! > tier[1]!))) tier = k;
    }
    if (!tier) return;
    const prefixes = (m.pathPrefixes?.length ? m.pathPrefixes : ['/']).map((p) =>
      p.length > 1 ? p.replace(/\/+$/, '') || '/' : p,
    );
    const matching = prefixes.filter((p) => p === '/' || path === p || path.startsWith(p + '/'));
    if (matching.length === 0) return;
    const plen = Math.max(...matching.map((p) => p.length));
    const hs = Object.entries(m.headers ?? {});
    if (!hs.every(([n, v]) => headers[n.toLowerCase()] === v)) return;
    const key = [tier[0]!, tier[1]!, plen, hs.length, -i];
    if (!best || greater(key, best.key)) best = { key, i };
  });
  return best?.i;
}

describe('RouteTable against a brute-force reference (fuzz, time-boxed)', () => {
  it('agrees on random tables and requests', () => {
    const deadline = performance.now() + 1500;
    let cases = 0;
    for (let seed = 1; performance.now() < deadline; seed++) {
      const r = rng(seed);
      const routes: RouteMatch[] = Array.from({ length: 1 + Math.floor(r() * 6) }, () => ({
        hosts: Array.from({ length: Math.floor(r() * 3) }, () =>
          pick(r, ['*', `*.${pick(r, LABELS)}.test`, '*.test', randomHost(r)]),
        ),
        pathPrefixes: Array.from(
          { length: Math.floor(r() * 3) },
          () => randomPath(r) + (r() < 0.2 ? '/' : ''),
        ),
        headers: r() < 0.3 ? { 'X-T': pick(r, ['1', '2']) } : {},
      }));
      const table = new RouteTable(routes.map((match, i) => ({ match, value: i })));
      for (let k = 0; k < 20; k++) {
        const host = randomHost(r) + (r() < 0.3 ? ':8080' : '');
        const url = randomPath(r) + (r() < 0.3 ? '?q=/a' : '');
        const headers: Record<string, string> = r() < 0.5 ? { 'x-t': pick(r, ['1', '2']) } : {};
        const got = table.lookup(host, url, (n) => headers[n])?.value;
        const want = reference(routes, host, url, headers);
        if (got !== want) {
          throw new Error(`seed ${seed}: ${JSON.stringify({ routes, host, url, headers, got, want })}`);
        }
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(1000);
  });

  it('never throws on hostile Host headers and URLs', () => {
    const table = new RouteTable([
      { match: { hosts: ['*.a.test', 'b.test'], pathPrefixes: ['/x'] }, value: 1 },
    ]);
    const r = rng(99);
    const alphabet = ['[', ']', ':', '.', '*', '/', '?', '%', 'a', 'é', '\u0000', ' '];
    for (let i = 0; i < 20_000; i++) {
      const s = () => Array.from({ length: Math.floor(r() * 12) }, () => pick(r, alphabet)).join('');
      const hit = table.lookup(s(), '/' + s(), () => undefined);
      if (hit) expect(hit.value).toBe(1);
    }
  });
});
