// Fuzz helpers for the spec tests: a seeded PRNG, a time box, and YAML-aware text mutations.

/** A small seeded PRNG (mulberry32), so a failing input can be found again from the seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `body` until `ms` passed, at least `min` times; returns the iteration count. */
export function timeBox(ms: number, body: (i: number) => void, min = 50): number {
  const end = Date.now() + ms;
  let i = 0;
  while (i < min || Date.now() < end) body(i++);
  return i;
}

/** Bits of YAML syntax (and a few bytes YAML dislikes) to insert at random points. */
const YAML_BITS = [
  ':',
  ': ',
  '-',
  '- ',
  ' ',
  '  ',
  '\n',
  '\t',
  '"',
  "'",
  '#',
  '&a ',
  '*a',
  '*b',
  '!!str ',
  '!!int ',
  '!x ',
  '[',
  ']',
  '{',
  '}',
  ',',
  '|',
  '>',
  '?',
  '%',
  '@',
  '`',
  '---\n',
  '...\n',
  '~',
  'null',
  '0',
  '1e999',
  'x',
  '<<: ',
  '\u0000',
  '\u00e9',
  '\ufeff',
];

/** Values to put after a key: aliases, tags, flow collections, odd scalars. */
const YAML_VALUES = [
  '*a',
  '&a x',
  '&a [1, 2]',
  '*a *b',
  '!!binary aGk=',
  '!!float x',
  '!!timestamp 2001-12-14',
  '[',
  '{a: 1}',
  '[1, [2]]',
  '~',
  '""',
  "''",
  '1e999',
  '-1',
  '0x1f',
  'yes',
  '? a',
  '|',
  '>-\n  folded',
  '"\\u0000"',
];

/**
 * One random mutation of `input`: a cut at a random point, a deletion, an insertion of YAML syntax,
 * a repeated, swapped or re-indented line, a value replaced by an alias, tag or odd scalar, or random bytes.
 */
function mutateText(input: string, rnd: () => number): string {
  const pick = (n: number) => Math.floor(rnd() * n);
  const at = () => pick(input.length + 1);
  const lines = input.split('\n');
  const line = () => pick(lines.length);
  switch (pick(8)) {
    case 0:
      return input.slice(0, at());
    case 1: {
      const from = at();
      return input.slice(0, from) + input.slice(from + 1 + pick(20));
    }
    case 2: {
      const where = at();
      return input.slice(0, where) + YAML_BITS[pick(YAML_BITS.length)] + input.slice(where);
    }
    case 3: {
      const i = line();
      lines.splice(i, 0, lines[i]!);
      return lines.join('\n');
    }
    case 4: {
      const [i, j] = [line(), line()];
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      return lines.join('\n');
    }
    case 5: {
      const i = line();
      lines[i] = rnd() < 0.5 ? lines[i]!.trimStart() : `  ${lines[i]}`;
      return lines.join('\n');
    }
    case 6: {
      const i = line();
      lines[i] = lines[i]!.replace(/: .*$|:$/, `: ${YAML_VALUES[pick(YAML_VALUES.length)]}`);
      return lines.join('\n');
    }
    default: {
      const where = at();
      const bytes = Array.from({ length: 1 + pick(8) }, () => String.fromCharCode(pick(256)));
      return input.slice(0, where) + bytes.join('') + input.slice(where);
    }
  }
}

/** `input` after 1–3 random mutations. */
export function mutateTextSome(input: string, rnd: () => number): string {
  let out = input;
  for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) out = mutateText(out, rnd);
  return out;
}
