import { describe, expect, it } from 'vitest';
import { seededRng } from '@sprout/http/testing';
import { isBuilderError } from '../errors.js';
import { parseBuildPlan, resolveGroup, type DetectResult, type PlanAlternative } from './plan.js';

const alt = (provides: string[], requires: string[] = []): PlanAlternative => ({
  provides,
  requires: requires.map((name) => ({ name, metadata: {} })),
});
const bp = (
  id: string,
  alternatives: PlanAlternative[],
  extra: Partial<DetectResult> = {},
): DetectResult => ({
  id,
  optional: false,
  passed: true,
  alternatives,
  ...extra,
});

describe('build plan resolution', () => {
  const cases: [string, DetectResult[], number[] | undefined][] = [
    ['provide then require', [bp('a', [alt(['x'])]), bp('b', [alt([], ['x'])])], [0, 1]],
    ['a provide nobody requires', [bp('a', [alt(['x'])]), bp('b', [alt([])])], undefined],
    ['a require nobody provides', [bp('a', [alt([])]), bp('b', [alt([], ['y'])])], undefined],
    [
      'a require met only by a later buildpack',
      [bp('a', [alt([], ['x'])]), bp('b', [alt(['x'])])],
      undefined,
    ],
    ['provide and require in one buildpack', [bp('a', [alt(['x'], ['x'])])], [0]],
    ['an [[or]] alternative that fits', [bp('a', [alt(['x']), alt([])]), bp('b', [alt([])])], [0, 1]],
    ['a required buildpack that failed', [bp('a', [alt([])]), bp('b', [], { passed: false })], undefined],
    [
      'an optional buildpack that failed is dropped',
      [bp('a', [], { passed: false, optional: true }), bp('b', [alt([])])],
      [1],
    ],
    [
      'an optional one whose plan does not fit is dropped',
      [bp('a', [alt([])]), bp('b', [alt(['z'])], { optional: true })],
      [0],
    ],
    ['nothing passed', [bp('a', [], { passed: false, optional: true })], undefined],
  ];
  for (const [name, results, members] of cases)
    it(name, () => expect(resolveGroup(results)?.members).toEqual(members));

  it("each provider's plan holds every require of the names it provides", () => {
    const results = [
      bp('node', [alt(['node'])]),
      bp('a', [{ provides: [], requires: [{ name: 'node', metadata: { version: '20' } }] }]),
      bp('b', [{ provides: [], requires: [{ name: 'node', metadata: { build: true } }] }]),
    ];
    expect(resolveGroup(results)?.plans).toEqual([
      [
        { name: 'node', metadata: { version: '20' } },
        { name: 'node', metadata: { build: true } },
      ],
      [],
      [],
    ]);
  });
});

describe('parseBuildPlan', () => {
  it('reads provides, requires (metadata, the old top-level version) and [[or]]', () => {
    const plan = parseBuildPlan(
      't',
      `[[provides]]\nname = "a"\n[[requires]]\nname = "a"\nversion = "1"\n[requires.metadata]\nx = 2\n[[or]]\n[[or.requires]]\nname = "b"\n`,
    );
    expect(plan).toEqual([
      { provides: ['a'], requires: [{ name: 'a', metadata: { x: 2, version: '1' } }] },
      { provides: [], requires: [{ name: 'b', metadata: {} }] },
    ]);
    expect(parseBuildPlan('t', '')).toEqual([{ provides: [], requires: [] }]);
  });

  for (const bad of [
    'provides = "a"',
    '[[provides]]\nversion = "1"',
    '[[requires]]\nname = "a"\nmetadata = 3',
    'or = 1',
    '[[x',
    'or = [1]',
  ])
    it(`refuses ${JSON.stringify(bad)}`, () => {
      expect(() => parseBuildPlan('t', bad)).toThrow(
        expect.objectContaining({ code: 'SPROUT_ERR_BUILDER_BUILDPACK_OUTPUT_INVALID' }),
      );
    });

  it('fuzzed plans give a plan or a coded error, never another exception', () => {
    const rng = seededRng();
    const valid =
      '[[provides]]\nname = "node"\n[[requires]]\nname = "node"\n[requires.metadata]\nversion = "20"\n[[or]]\n[[or.provides]]\nname = "x"\n';
    const deadline = Date.now() + 300;
    let n = 0;
    while (n <= 10 || Date.now() < deadline) {
      const text =
        rng.next() < 0.5
          ? rng.bytes(rng.int(0, 200)).toString('latin1')
          : valid.slice(0, rng.int(0, valid.length)) +
            rng.bytes(rng.int(0, 8)).toString('latin1') +
            valid.slice(rng.int(0, valid.length));
      try {
        const plan = parseBuildPlan('t', text);
        expect(Array.isArray(plan) && plan.length >= 1, `seed ${rng.seed}`).toBe(true);
      } catch (err) {
        expect(
          isBuilderError(err, 'SPROUT_ERR_BUILDER_BUILDPACK_OUTPUT_INVALID'),
          `seed ${rng.seed}: ${String(err)}`,
        ).toBe(true);
      }
      n++;
    }
    expect(n).toBeGreaterThan(10);
  });
});
