import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inside, tagPath } from './file-path.js';

describe('tagPath (as fluent-bit makes a tag a file name)', () => {
  it.each([
    ['app.web', 'app.web'],
    ['fn.hello-world_1', 'fn.hello-world_1'],
    ['../x', '_/x'],
    ['../../etc/passwd', '_/_/etc/passwd'],
    ['/etc/passwd', 'etc/passwd'],
    ['//a///b/', 'a/b'],
    ['..\\..\\x', '_/_/x'],
    ['a/./b', 'a/_/b'],
    ['...', '...'],
    ['a\u0000b', 'a_b'],
    ['%2F..%2Fx', '_2F.._2Fx'],
    ['C:\\x', 'C_/x'],
    ['ünï code', '__n___code'], // each byte of a non-ASCII character
    ['', '_'],
    ['/', '_'],
    ['.', '_'],
    ['a'.repeat(255), 'a'.repeat(255)],
  ])('%j → %j', (tag, path) => expect(tagPath(tag)).toBe(path));

  it('refuses a part over 255 bytes or a path over 4095', () => {
    expect(tagPath('a'.repeat(256))).toBeUndefined();
    expect(tagPath('ü'.repeat(128))).toBeUndefined(); // 256 bytes of UTF-8
    expect(tagPath('ab/'.repeat(1400))).toBeUndefined();
    expect(tagPath('ab/'.repeat(1300))).toBe(Array(1300).fill('ab').join('/'));
  });

  it('never leaves the folder, whatever the tag (fuzzed)', () => {
    const alphabet = ['.', '..', '/', '\\', '%', '2F', '\u0000', 'a', 'ü', ' ', ':', '~', '$HOME'];
    const end = Date.now() + 300;
    let n = 0;
    while (Date.now() < end || n < 1000) {
      let tag = '';
      for (let i = randomInt(0, 20); i > 0; i--) tag += alphabet[randomInt(0, alphabet.length)];
      const path = tagPath(tag);
      expect(path, JSON.stringify(tag)).toBeDefined();
      expect(path).toMatch(/^[A-Za-z0-9._\-/]+$/);
      expect(path!.split('/')).not.toContain('..');
      expect(inside('/srv/logs', path!), JSON.stringify(tag)).toMatch(/^\/srv\/logs\//);
      n++;
    }
  });
});

describe('inside', () => {
  it('resolves a name under the folder, or refuses one that leaves it', () => {
    expect(inside('/srv/logs', 'a/b')).toBe('/srv/logs/a/b');
    expect(inside('/srv/logs/', 'a')).toBe('/srv/logs/a');
    expect(inside('/', 'etc')).toBe('/etc');
    expect(inside('/srv/logs', '../x')).toBeUndefined();
    expect(inside('/srv/logs', '/etc/passwd')).toBeUndefined();
    expect(inside('/srv/logs', '')).toBeUndefined();
    expect(inside('/srv/logs', '.')).toBeUndefined();
    expect(inside('/srv/logs', 'a/../../logs2/x')).toBeUndefined();
  });
});
