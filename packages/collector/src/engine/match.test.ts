import { describe, expect, it } from 'vitest';
import { tagMatcher } from './match.js';

describe('tagMatcher', () => {
  // [match, match_regex, tag, expected]
  const table: Array<[string | undefined, string | undefined, string, boolean]> = [
    ['*', undefined, 'anything.at.all', true],
    ['app.web', undefined, 'app.web', true],
    ['app.web', undefined, 'app.web2', false],
    ['app.*', undefined, 'app.web', true],
    ['app.*', undefined, 'app.web.v1', true],
    ['app.*', undefined, 'apps.web', false],
    ['*.err', undefined, 'fn.hello.err', true],
    ['a*c', undefined, 'abbbc', true],
    ['a*c', undefined, 'abbbd', false],
    ['a.b', undefined, 'aXb', false], // dots are literal
    ['kube.*.log', undefined, 'kube.x.log', true],
    [undefined, '^fn\\.(a|b)$', 'fn.a', true],
    [undefined, '^fn\\.(a|b)$', 'fn.c', false],
    [undefined, 'web', 'app.web.1', true], // unanchored regex searches
    ['nomatch', '^x$', 'x', true], // match_regex wins
    [undefined, undefined, 'x', false],
  ];
  it.each(table)('match %s regex %s tag %s → %s', (m, re, tag, want) => {
    expect(tagMatcher(m, re)(tag)).toBe(want);
  });
});
