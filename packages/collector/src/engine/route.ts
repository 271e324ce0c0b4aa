import { tagMatcher } from './match.js';

/** A filter's or output's `match` / `match_regex`, with the verdict cached per tag. */
export interface Route {
  id: string;
  match: (tag: string) => boolean;
  cache: Map<string, boolean>;
}

export function route(id: string, match: string | undefined, matchRegex: string | undefined): Route {
  return { id, match: tagMatcher(match, matchRegex), cache: new Map() };
}

/** True when `tag` goes this route (tags seen before cost one map lookup). */
export function matches(r: Route, tag: string): boolean {
  let v = r.cache.get(tag);
  if (v === undefined) {
    v = r.match(tag);
    if (r.cache.size > 10_000) r.cache.clear();
    r.cache.set(tag, v);
  }
  return v;
}
