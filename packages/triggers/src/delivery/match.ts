import { TriggersError } from '../errors.js';

/**
 * The part of CEL that Dapr's routing rules (`routes.rules[].match`) are written in: `event.<field>`
 * paths (dots or `["key"]`), string/number/bool/null literals, `== != < <= > >=`, `&& || !`,
 * parentheses, `has(event.x)`, `size(x)`, and the string methods `startsWith`, `endsWith`,
 * `contains`. Anything else is refused when the rule is read (SPROUT_ERR_TRIGGERS_MATCH_UNSUPPORTED)
 * rather than guessed at. A path that is missing, or operands of different types, make the
 * comparison false, never an error.
 */
export type Matcher = (event: unknown) => boolean;

type Value = unknown;
type Node = (event: unknown) => Value;

const MISSING = Symbol('missing');
const TOKEN =
  /\s*(?:(\d+(?:\.\d+)?)|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(&&|\|\||==|!=|<=|>=|[<>!().[\],])|([A-Za-z_][A-Za-z0-9_]*))/y;

function unsupported(expr: string, why: string): TriggersError {
  return new TriggersError(
    'SPROUT_ERR_TRIGGERS_MATCH_UNSUPPORTED',
    `routing rule match ${JSON.stringify(expr)}: ${why}; Sprout evaluates event paths, literals, comparisons, && || !, has(), size(), startsWith/endsWith/contains`,
    { field: 'routes.rules.match' },
  );
}

function tokenize(expr: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expr.length) {
    if (/^\s*$/.test(expr.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(expr);
    if (!m) throw unsupported(expr, `cannot read from ${JSON.stringify(expr.slice(at, at + 10))}`);
    out.push(m[1] ?? m[2] ?? m[3] ?? m[4]!);
  }
  return out;
}

function unquote(tok: string): string {
  return tok.slice(1, -1).replace(/\\(.)/g, (_m, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c);
}

const same = (a: Value, b: Value) => typeof a === typeof b && a !== MISSING && b !== MISSING;

/** Reads a match expression once; the returned function evaluates it against a CloudEvent. */
export function compileMatch(expr: string): Matcher {
  const toks = tokenize(expr);
  let i = 0;
  const peek = () => toks[i];
  const take = (want?: string) => {
    const t = toks[i];
    if (t === undefined || (want !== undefined && t !== want))
      throw unsupported(expr, want ? `expected ${want}` : 'unexpected end');
    i++;
    return t;
  };

  /** `next (op next)*`, folded left with `combine`. */
  const chain =
    (op: string, next: () => Node, combine: (a: boolean, b: () => boolean) => boolean) => (): Node => {
      let left = next();
      while (peek() === op) {
        take();
        const l = left;
        const r = next();
        left = (e) => combine(l(e) === true, () => r(e) === true);
      }
      return left;
    };
  const and: () => Node = chain(
    '&&',
    () => not(),
    (a, b) => a && b(),
  );
  const or: () => Node = chain('||', and, (a, b) => a || b());
  const not = (): Node => {
    if (peek() === '!') {
      take();
      const inner = not();
      return (e) => {
        const v = inner(e);
        return typeof v === 'boolean' ? !v : false;
      };
    }
    return compare();
  };
  const compare = (): Node => {
    const left = postfix();
    const op = peek();
    if (op === '==' || op === '!=' || op === '<' || op === '<=' || op === '>' || op === '>=') {
      take();
      const right = postfix();
      return (e) => {
        const a = left(e);
        const b = right(e);
        if (a === MISSING || b === MISSING) return false;
        if (op === '==') return a === b;
        if (op === '!=') return a !== b;
        if (!same(a, b) || (typeof a !== 'number' && typeof a !== 'string')) return false;
        const x = a as number | string;
        const y = b as number | string;
        return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
      };
    }
    return left;
  };
  const postfix = (): Node => {
    let node = primary();
    for (;;) {
      if (peek() === '.') {
        take();
        const name = take();
        if (!/^[A-Za-z_]/.test(name)) throw unsupported(expr, `a field name after "." (got ${name})`);
        if (peek() === '(') {
          take();
          const arg = or();
          take(')');
          node = method(expr, node, name, arg);
        } else node = field(node, name);
      } else if (peek() === '[') {
        take();
        const key = take();
        if (!/^["']/.test(key)) throw unsupported(expr, 'only string keys in [...]');
        take(']');
        node = field(node, unquote(key));
      } else return node;
    }
  };
  const primary = (): Node => {
    const t = take();
    if (t === '(') {
      const inner = or();
      take(')');
      return inner;
    }
    if (/^\d/.test(t)) {
      const n = Number(t);
      return () => n;
    }
    if (/^["']/.test(t)) {
      const s = unquote(t);
      return () => s;
    }
    if (t === 'true' || t === 'false') return () => t === 'true';
    if (t === 'null') return () => null;
    if (t === 'event') return (e) => e;
    if (t === 'has' || t === 'size') {
      take('(');
      const arg = or();
      take(')');
      if (t === 'has') return (e) => arg(e) !== MISSING;
      return (e) => {
        const v = arg(e);
        if (typeof v === 'string') return [...v].length;
        if (Array.isArray(v)) return v.length;
        if (v && typeof v === 'object') return Object.keys(v).length;
        return MISSING;
      };
    }
    throw unsupported(expr, `${JSON.stringify(t)} is not something Sprout evaluates`);
  };

  const root = or();
  if (i !== toks.length) throw unsupported(expr, `unexpected ${JSON.stringify(toks[i])}`);
  return (event) => root(event) === true;
}

function field(node: Node, name: string): Node {
  return (e) => {
    const v = node(e);
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, name)) return MISSING;
    return (v as Record<string, unknown>)[name];
  };
}

function method(expr: string, target: Node, name: string, arg: Node): Node {
  const fns: Record<string, (s: string, a: string) => boolean> = {
    startsWith: (s, a) => s.startsWith(a),
    endsWith: (s, a) => s.endsWith(a),
    contains: (s, a) => s.includes(a),
  };
  const f = fns[name];
  if (!f) throw unsupported(expr, `method ${name}() is not one Sprout evaluates`);
  return (e) => {
    const s = target(e);
    const a = arg(e);
    return typeof s === 'string' && typeof a === 'string' ? f(s, a) : MISSING;
  };
}
