/**
 * Builds a tag matcher from fluent-bit's `Match` (wildcards: `*` any run of characters) or
 * `Match_Regex` (a full regular expression tested against the whole tag).
 *
 * @example
 * tagMatcher('app.*')('app.web') // true
 */
export function tagMatcher(match: string | undefined, matchRegex?: string): (tag: string) => boolean {
  if (matchRegex !== undefined) {
    const re = new RegExp(matchRegex);
    return (tag) => re.test(tag);
  }
  if (match === undefined) return () => false;
  if (match === '*') return () => true;
  if (!match.includes('*')) return (tag) => tag === match;
  const re = new RegExp('^' + match.split('*').map(escapeRegex).join('.*') + '$');
  return (tag) => re.test(tag);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
