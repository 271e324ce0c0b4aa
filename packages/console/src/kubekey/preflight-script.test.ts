import { execFileSync } from 'node:child_process';
import { seededRng } from '@sprout/http/testing';
import { describe, expect, it } from 'vitest';
import { parseCidrList } from './cidr.js';
import { HOST_SCRIPT, REQUIRED_COMMANDS, parseHostFacts } from './preflight-script.js';

describe('the pre-flight script and its parser', () => {
  it('reads what the script prints on this machine', () => {
    const out = execFileSync('sh', ['-c', HOST_SCRIPT], { encoding: 'utf8' });
    const f = parseHostFacts(out);
    expect(f.complete).toBe(true);
    expect(f.kernel).toBe('Linux');
    expect(f.hostname).toBe(execFileSync('hostname', { encoding: 'utf8' }).trim());
    expect(['amd64', 'arm64']).toContain(f.arch);
    expect(Object.keys(f.commands).sort()).toEqual([...REQUIRED_COMMANDS].sort());
  });

  it('reads listening ports from /proc/net/tcp lines and counts swap devices', () => {
    const out = [
      '@@kernel',
      'Linux',
      '@@hostname',
      'node1',
      '@@machine',
      'abc',
      '@@os',
      'Ubuntu 22.04.4 LTS',
      '@@arch',
      'aarch64',
      '@@sudo',
      'ok',
      '@@commands',
      'socat yes',
      'ipvsadm no',
      '@@swap',
      '/swapfile file 1024 0 -2',
      '@@listen',
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000:192B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1',
      '   1: 0100007F:0950 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2',
      '   0: 00000000000000000000000000000000:2814 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3',
      '@@end',
    ].join('\n');
    const f = parseHostFacts(out);
    expect(f).toMatchObject({
      hostname: 'node1',
      machineId: 'abc',
      os: 'Ubuntu 22.04.4 LTS',
      arch: 'arm64',
      sudo: 'ok',
      swapDevices: 1,
      complete: true,
    });
    expect(f.commands).toEqual({ socat: true, ipvsadm: false });
    // 0x192B = 6443 and 0x2814 = 10260 listen; 0x0950 is an established connection, not a listener.
    expect([...f.listening].sort((a, b) => a - b)).toEqual([6443, 10260]);
  });

  it('never throws on garbage or output cut anywhere, and says when it was cut', () => {
    const rng = seededRng();
    const good = execFileSync('sh', ['-c', HOST_SCRIPT], { encoding: 'utf8' });
    for (let n = 0; n < 500; n++) {
      const cut = rng.int(0, good.indexOf('@@end'));
      const text = n % 2 === 0 ? good.slice(0, cut) : rng.bytes(rng.int(0, 300)).toString('latin1');
      const f = parseHostFacts(text);
      expect(f.complete, `seed ${rng.seed}`).toBe(false);
      expect(['root', 'ok', 'no']).toContain(f.sudo);
      const c = parseCidrList(text.slice(0, 40));
      expect(c.cidrs.length + c.bad.length).toBeGreaterThan(0);
    }
  });
});
