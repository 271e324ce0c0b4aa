// What a JavaScript or TypeScript source file imports: static imports and re-exports, `import type`,
// dynamic `import('…')`, `require('…')` and `require.resolve('…')` with a literal specifier. Plain
// Node, no parser: comments are blanked first (strings, template literals and regular-expression
// literals are kept as they are), so an import written in a comment or a doc example is not counted.

/**
 * `text` with every comment replaced by spaces (newlines kept), so offsets and line numbers stay
 * those of the original.
 */
export function blankComments(text) {
  return split(text).code;
}

/**
 * One pass over `text`: `code` is the text with comments blanked; `skeleton` also blanks what is
 * inside strings, template literals and regular expressions (the quotes stay), so that an import
 * written inside a string (source a test writes to a file) is not counted either.
 */
function split(text) {
  let code = '';
  let skeleton = '';
  let i = 0;
  // What the last significant character was, to tell a regular expression from a division.
  let last = '';
  const n = text.length;
  const blank = (s) => s.replace(/[^\n]/g, ' ');
  const literal = (stop) => {
    const s = text.slice(i, stop);
    code += s;
    skeleton += s[0] + blank(s.slice(1, -1)) + (s.length > 1 ? s[s.length - 1] : '');
    i = stop;
  };
  while (i < n) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      code += blank(text.slice(i, stop));
      skeleton += blank(text.slice(i, stop));
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      code += blank(text.slice(i, stop));
      skeleton += blank(text.slice(i, stop));
      i = stop;
    } else if (c === "'" || c === '"') {
      literal(skipQuoted(text, i, c));
      last = c;
    } else if (c === '`') {
      const stop = skipTemplate(text, i);
      code += text.slice(i, stop);
      skeleton += templateSkeleton(text.slice(i, stop));
      i = stop;
      last = c;
    } else if (c === '/' && regexCanStart(code, last)) {
      literal(skipRegex(text, i));
      last = '/';
    } else {
      code += c;
      skeleton += c;
      if (!/\s/.test(c)) last = c;
      i++;
    }
  }
  return { code, skeleton };
}

function skipQuoted(text, i, quote) {
  let j = i + 1;
  while (j < text.length && text[j] !== quote && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
  return Math.min(j + 1, text.length);
}

/** A template literal's skeleton: its text blanked, its `${…}` parts kept as code skeletons. */
function templateSkeleton(tpl) {
  let out = '`';
  let j = 1;
  while (j < tpl.length - 1) {
    if (tpl[j] === '\\') {
      out += '  ';
      j += 2;
    } else if (tpl[j] === '$' && tpl[j + 1] === '{') {
      const end = expressionEnd(tpl, j + 2);
      out += '${' + split(tpl.slice(j + 2, end - 1)).skeleton + '}';
      j = end;
    } else {
      out += tpl[j] === '\n' ? '\n' : ' ';
      j++;
    }
  }
  return out + tpl.slice(j);
}

/** Past the `}` closing a `${` whose inside starts at `j`. */
function expressionEnd(text, j) {
  let depth = 1;
  while (j < text.length && depth > 0) {
    const d = text[j];
    if (d === "'" || d === '"') j = skipQuoted(text, j, d);
    else if (d === '`') j = skipTemplate(text, j);
    else {
      if (d === '{') depth++;
      else if (d === '}') depth--;
      j++;
    }
  }
  return j;
}

/** Past a template literal, including `${…}` parts with their own strings and nested templates. */
function skipTemplate(text, i) {
  let j = i + 1;
  while (j < text.length) {
    const c = text[j];
    if (c === '\\') j += 2;
    else if (c === '`') return j + 1;
    else if (c === '$' && text[j + 1] === '{') j = expressionEnd(text, j + 2);
    else j++;
  }
  return text.length;
}

function regexCanStart(before, last) {
  if (last === '' || '(,=:[!&|?{};+-*%<>~^'.includes(last)) return true;
  return /\b(return|typeof|case|do|else|in|of|void|yield|await)\s*$/.test(before);
}

function skipRegex(text, i) {
  let j = i + 1;
  let inClass = false;
  while (j < text.length && text[j] !== '\n') {
    const c = text[j];
    if (c === '\\') j += 2;
    else {
      if (c === '[') inClass = true;
      else if (c === ']') inClass = false;
      else if (c === '/' && !inClass) return j + 1;
      j++;
    }
  }
  return j;
}

const PATTERNS = [
  // import x from 'y'; import { a } from 'y'; import type { T } from 'y'; import 'y'; export … from 'y'
  /\b(?:import|export)\s+(?:type\s+)?(?:[^'"`;()]*?\bfrom\s*)?(['"])([^'"\n]+)\1/dg,
  // import('y'), also inside `await import('y')`
  /\bimport\s*\(\s*(['"`])([^'"`\n]+)\1\s*[,)]/dg,
  // require('y'), require.resolve('y')
  /\brequire(?:\.resolve)?\s*\(\s*(['"`])([^'"`\n]+)\1\s*\)/dg,
];

/** Every module specifier `text` imports, with its 1-based line, in source order. */
export function sourceImports(text) {
  const { code, skeleton } = split(text);
  const found = [];
  for (const re of PATTERNS) {
    for (const m of skeleton.matchAll(re)) {
      // The skeleton has the specifier blanked: read it from the same place in the code.
      const [at, end] = m.indices[2];
      const specifier = code.slice(at, end);
      // A template literal with a `${…}` part names no fixed module.
      if (m[1] === '`' && specifier.includes('${')) continue;
      found.push({ specifier, line: lineAt(code, at), at });
    }
  }
  return found
    .sort((a, b) => a.at - b.at)
    .filter((f, k, all) => k === 0 || all[k - 1].at !== f.at)
    .map(({ specifier, line }) => ({ specifier, line }));
}

function lineAt(text, index) {
  let line = 1;
  for (let k = text.indexOf('\n'); k !== -1 && k < index; k = text.indexOf('\n', k + 1)) line++;
  return line;
}
