import { describe, expect, it } from 'vitest';
import { blankComments, sourceImports } from './source-imports.mjs';

const specifiers = (text) => sourceImports(text).map((i) => i.specifier);

describe('sourceImports', () => {
  it('finds static, type-only, re-export, side-effect, dynamic and require imports with their lines', () => {
    const text = [
      "import a from 'x';",
      'import type { T } from "@sprout/kube";',
      "export { b } from './b.js';",
      "export * from './c.js';",
      "const m = await import('@sprout/state');",
      'const c = require(\'../c.cjs\'); const p = require.resolve("./p");',
      'import {',
      '  one,',
      "} from '@sprout/http/testing';",
      "import './side-effect.js';",
      'const t = import(`./template.js`);',
    ].join('\n');
    expect(sourceImports(text)).toEqual([
      { specifier: 'x', line: 1 },
      { specifier: '@sprout/kube', line: 2 },
      { specifier: './b.js', line: 3 },
      { specifier: './c.js', line: 4 },
      { specifier: '@sprout/state', line: 5 },
      { specifier: '../c.cjs', line: 6 },
      { specifier: './p', line: 6 },
      { specifier: '@sprout/http/testing', line: 9 },
      { specifier: './side-effect.js', line: 10 },
      { specifier: './template.js', line: 11 },
    ]);
  });

  it('ignores imports written in comments, strings and regular expressions', () => {
    const text = [
      "// import z from '../../line-comment';",
      "/* require('../../block-comment') */",
      "/** @example import { x } from '@sprout/doc-example' */",
      'const s = "import y from \'../../in-a-string\'";',
      "const w = `import q from '../../in-a-template'`;",
      "const r = /'[a-z]\\/\\//g; // import k from 'after-a-regex'",
      "const d = a / b; import real from 'after-a-division';",
    ].join('\n');
    expect(specifiers(text)).toEqual(['after-a-division']);
  });

  it('reads code inside template literal expressions, and skips specifiers built at run time', () => {
    const text = "const t = `${(await import('./inside.js')).x}`;\nconst d = import(`./dyn/${name}.js`);";
    expect(specifiers(text)).toEqual(['./inside.js']);
  });

  it('keeps offsets: comments become spaces, newlines stay', () => {
    const text = "a; // note\n/* two\nlines */ b; 'c // not a comment'";
    const out = blankComments(text);
    expect(out).toHaveLength(text.length);
    expect(out.split('\n')).toHaveLength(3);
    expect(out).toContain("'c // not a comment'");
    expect(out).not.toContain('note');
    expect(out).not.toContain('lines');
  });
});
