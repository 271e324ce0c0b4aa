import { describe, expect, it } from 'vitest';
import { parseSize, resolveRunOptions } from './options.js';

describe('run options', () => {
  it('has the anchors defaults', () => {
    expect(resolveRunOptions({})).toMatchObject({
      port: 8080,
      source: '.',
      timeoutMs: 0,
      logExecutionId: false,
      ignoredRoutes: undefined,
    });
  });

  it('parses each option', () => {
    expect(
      resolveRunOptions({
        port: '0',
        timeout: '1.5',
        ignoredRoutes: '/a, /b*',
        logExecutionId: 'TRUE',
        signatureType: 'CloudEvent',
        bodyLimit: '2mb',
      }),
    ).toMatchObject({
      port: 0,
      timeoutMs: 1500,
      ignoredRoutes: ['/a', '/b*'],
      logExecutionId: true,
      signatureType: 'cloudevent',
      bodyLimit: 2 * 1024 * 1024,
    });
    expect(resolveRunOptions({ ignoredRoutes: '' }).ignoredRoutes).toEqual([]);
  });

  it.each([
    [{ port: '70000' }, 'SPROUT_ERR_FRAMEWORK_INVALID_OPTION', '--port'],
    [{ port: 'abc' }, 'SPROUT_ERR_FRAMEWORK_INVALID_OPTION', '--port'],
    [{ timeout: '-1' }, 'SPROUT_ERR_FRAMEWORK_INVALID_OPTION', '--timeout'],
    [{ signatureType: 'background' }, 'SPROUT_ERR_FRAMEWORK_UNKNOWN_SIGNATURE', '--signature-type'],
    [{ bodyLimit: 'lots' }, 'SPROUT_ERR_FRAMEWORK_INVALID_OPTION', '--body-limit'],
  ])('refuses %j', (raw, code, field) => {
    expect(() => resolveRunOptions(raw)).toThrowError(expect.objectContaining({ code, field }));
  });

  it('parses sizes', () => {
    expect(parseSize('512kb', 'x')).toBe(524288);
    expect(parseSize('100', 'x')).toBe(100);
  });
});
