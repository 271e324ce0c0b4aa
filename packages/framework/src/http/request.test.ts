import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SproutRequest } from './request.js';

describe('SproutRequest.executionId', () => {
  it('generates distinct 12-character base64url ids, across refills of the random pool', () => {
    const socket = new Socket();
    // Over two refills of the pool (455 ids each), wherever the ids of earlier tests left it.
    const ids = Array.from({ length: 1_000 }, () => new SproutRequest(socket).executionId);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    socket.destroy();
  });

  it('takes the function-execution-id header when there is one, and keeps the id it gave', () => {
    const socket = new Socket();
    const given = new SproutRequest(socket);
    given.headers['function-execution-id'] = 'exec-42';
    expect(given.executionId).toBe('exec-42');
    const generated = new SproutRequest(socket);
    expect(generated.executionId).toBe(generated.executionId);
    socket.destroy();
  });
});
