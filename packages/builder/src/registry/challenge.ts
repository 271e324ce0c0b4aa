/** One `WWW-Authenticate` challenge: its scheme (lowercase) and parameters. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;

/**
 * Parses a `WWW-Authenticate` header (RFC 9110 §11.6.1) into its challenges, e.g.
 * `Bearer realm="https://auth/token",service="registry",scope="repository:a:pull"`. Malformed
 * parts end the parse; what was read before them is kept. Never throws.
 */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const text = Array.isArray(header) ? header.join(', ') : header;
  const out: Challenge[] = [];
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < text.length && chars.test(text[i]!)) i++;
  };
  const token = (): string | undefined => {
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(text);
    if (!m) return undefined;
    i = TOKEN.lastIndex;
    return m[0];
  };
  const quoted = (): string | undefined => {
    let value = '';
    for (i++; i < text.length; i++) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        return value;
      }
      if (c === '\\') i++;
      value += text[i] ?? '';
    }
    return undefined;
  };
  while (i < text.length) {
    skip(/[\s,]/);
    const scheme = token();
    if (!scheme) break;
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    for (;;) {
      skip(/[\s,]/);
      const start = i;
      const name = token();
      skip(/\s/);
      if (!name || text[i] !== '=') {
        i = start; // the next challenge's scheme
        break;
      }
      i++;
      skip(/\s/);
      const value = text[i] === '"' ? quoted() : token();
      if (value === undefined) return out;
      challenge.params[name.toLowerCase()] = value;
    }
  }
  return out;
}
