// A scanner over JSON text that JSON.parse has accepted (or that pino wrote): it finds where values
// end and which keys an object holds, keeping each value's text as written. JSON.parse itself
// cannot tell a repeated key from a single one (the last one silently wins), which is why it exists.

/** One `"key": value` of an object: the decoded key and the value's text as written. */
export interface Member {
  key: string;
  /** The key as written, quotes included. */
  rawKey: string;
  rawValue: string;
}

const WS = new Set([' ', '\t', '\n', '\r']);

function skipWs(text: string, i: number): number {
  while (i < text.length && WS.has(text[i]!)) i++;
  return i;
}

/** The index after the string whose opening quote is at `i`. */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (c === '\\') j++;
    else if (c === '"') return j + 1;
  }
  throw new SyntaxError(`unterminated string at ${i}`);
}

/**
 * Walks the value at `i` (after any white space) and returns the index after it. `onKey` sees every
 * key of every object inside it, with the path of the object that holds it.
 */
function walk(
  text: string,
  i: number,
  path: string,
  onKey?: (key: string, path: string, seen: Set<string>) => void,
): number {
  i = skipWs(text, i);
  const c = text[i];
  if (c === '"') return stringEnd(text, i);
  if (c === '{' || c === '[') {
    const close = c === '{' ? '}' : ']';
    const seen = new Set<string>();
    i = skipWs(text, i + 1);
    for (let n = 0; text[i] !== close; n++) {
      if (i >= text.length) throw new SyntaxError(`unterminated ${c} in JSON`);
      let inner = `${path}[${n}]`;
      if (c === '{') {
        const end = stringEnd(text, i);
        const key = JSON.parse(text.slice(i, end)) as string;
        onKey?.(key, path, seen);
        seen.add(key);
        inner = `${path}.${key}`;
        i = skipWs(text, end) + 1; // past ':'
      }
      i = skipWs(text, walk(text, i, inner, onKey));
      if (text[i] === ',') i = skipWs(text, i + 1);
    }
    return i + 1;
  }
  const start = i;
  while (i < text.length && !WS.has(text[i]!) && text[i] !== ',' && text[i] !== '}' && text[i] !== ']') i++;
  if (i === start) throw new SyntaxError(`no JSON value at ${i}`);
  return i;
}

/** The members of the JSON object `text`, in order, repeated keys included. */
export function objectMembers(text: string): Member[] {
  const out: Member[] = [];
  let i = skipWs(text, 0);
  if (text[i] !== '{') throw new SyntaxError('not a JSON object');
  i = skipWs(text, i + 1);
  while (i < text.length && text[i] !== '}') {
    const keyEnd = stringEnd(text, i);
    const rawKey = text.slice(i, keyEnd);
    const valueStart = skipWs(text, skipWs(text, keyEnd) + 1);
    const valueEnd = walk(text, valueStart, '');
    out.push({ key: JSON.parse(rawKey) as string, rawKey, rawValue: text.slice(valueStart, valueEnd) });
    i = skipWs(text, valueEnd);
    if (text[i] === ',') i = skipWs(text, i + 1);
  }
  return out;
}

/** Paths (`$.a.b`, `$.list[0].c`) of every key that an object of the JSON value `text` repeats. */
export function repeatedKeys(text: string): string[] {
  const found: string[] = [];
  walk(text, 0, '$', (key, path, seen) => {
    if (seen.has(key)) found.push(`${path}.${key}`);
  });
  return found;
}
