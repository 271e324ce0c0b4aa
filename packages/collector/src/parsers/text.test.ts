import { describe, expect, it } from 'vitest';
import { noise, timeBox } from '../../test/fuzz.js';
import {
  buildParser,
  logfmtParse,
  syslog3164LocalParse,
  syslog3164Parse,
  syslog5424Parse,
  syslogAutoParse,
} from './text.js';
import { compileTimeFormat } from './time.js';

const year = new Date().getUTCFullYear();
const ns = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;

describe('syslog parsers', () => {
  // RFC 5424 §6.5 examples (first two) and nil values.
  const r5424: Array<[string, unknown]> = [
    [
      "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \uFEFF'su root' failed for lonvick on /dev/pts/8",
      {
        time: ns('2003-10-11T22:14:15.003Z'),
        body: {
          pri: 34,
          host: 'mymachine.example.com',
          ident: 'su',
          msgid: 'ID47',
          message: "'su root' failed for lonvick on /dev/pts/8",
        },
      },
    ],
    [
      '<165>1 2003-10-11T22:14:15.003000123-07:00 host evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event',
      {
        time: ns('2003-10-12T05:14:15.003Z') + 123n,
        body: {
          pri: 165,
          host: 'host',
          ident: 'evntslog',
          msgid: 'ID47',
          extradata: '[exampleSDID@32473 iut="3" eventSource="Application"]',
          message: 'An application event',
        },
      },
    ],
    ['<13>1 - - - - - -', { body: { pri: 13 } }],
    // §6.3.3: ']' inside a PARAM-VALUE is escaped.
    [
      '<13>1 2020-01-01T00:00:00Z h app 42 - [a x="\\]"][b] msg',
      {
        time: ns('2020-01-01T00:00:00Z'),
        body: { pri: 13, host: 'h', ident: 'app', pid: '42', extradata: '[a x="\\]"][b]', message: 'msg' },
      },
    ],
  ];
  it.each(r5424)('rfc5424 %j', (line, want) => expect(syslog5424Parse(line)).toEqual(want));

  it('rfc3164 with and without host (RFC 3164 §5.4 example)', () => {
    expect(
      syslog3164Parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"),
    ).toEqual({
      time: ns(`${year}-10-11T22:14:15Z`),
      body: {
        pri: 34,
        host: 'mymachine',
        ident: 'su',
        message: "'su root' failed for lonvick on /dev/pts/8",
      },
    });
    expect(syslog3164Parse('<13>Jan  5 01:02:03 h app[77]: hi there')).toEqual({
      time: ns(`${year}-01-05T01:02:03Z`),
      body: { pri: 13, host: 'h', ident: 'app', pid: '77', message: 'hi there' },
    });
    expect(syslog3164LocalParse('<13>Jan  5 01:02:03 app[77]: local')?.body).toEqual({
      pri: 13,
      ident: 'app',
      pid: '77',
      message: 'local',
    });
  });

  // What the input reads without a `parser`: each form, as its own parser reads it.
  it.each([
    ['<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 - hi', syslog5424Parse],
    ["<34>Oct 11 22:14:15 mymachine su: 'su root' failed", syslog3164Parse],
    ['<13>Jan  5 01:02:03 h app[77]: hi there', syslog3164Parse],
    ['<13>Jan  5 01:02:03 app[77]: local', syslog3164LocalParse],
    ['<13>Jan  5 01:02:03 app: local, no pid', syslog3164LocalParse],
    ['<13>Jan  5 01:02:03 lonely', syslog3164LocalParse],
  ])('auto: %j', (line, same) => {
    const want = same(line);
    expect(want).toBeDefined();
    expect(syslogAutoParse(line)).toEqual(want);
  });

  it.each([
    '',
    'plain text',
    '<999>1 - - - - - -',
    '<13>2 - - - - - -',
    '<13>1 notatime h a p m -',
    '<13>Foo 99 99:99:99 h a: x',
  ])('rejects %j', (line) => {
    expect(syslog5424Parse(line)).toBeUndefined();
    expect(syslog3164Parse(line)).toBeUndefined();
    expect(syslogAutoParse(line)).toBeUndefined();
  });

  it('fuzz: random text never throws', () => {
    timeBox(300, () => {
      const t = '<' + noise(80).toString('latin1');
      for (const p of [
        syslog5424Parse,
        syslog3164Parse,
        syslog3164LocalParse,
        syslogAutoParse,
        logfmtParse,
      ]) {
        const r = p(t);
        if (r) expect(typeof r.body).toBe('object');
      }
    });
  });
});

describe('logfmt, regex and time formats', () => {
  it('logfmt', () => {
    expect(logfmtParse('level=info msg="hello \\"x\\" world" ok n=3')).toEqual({
      body: { level: 'info', msg: 'hello "x" world', ok: true, n: '3' },
    });
    expect(logfmtParse('   ')).toBeUndefined();
  });

  it('regex parser with time_key and time_format', () => {
    const p = buildParser({
      name: 'p',
      format: 'regex',
      regex: '^(?<time>[^ ]+ [^ ]+) (?<level>\\w+) (?<msg>.*)$',
      time_key: 'time',
      time_format: '%Y-%m-%d %H:%M:%S.%L',
      time_keep: false,
    });
    expect(p.parse('2024-02-03 04:05:06.789 WARN disk almost full')).toEqual({
      time: ns('2024-02-03T04:05:06.789Z'),
      body: { level: 'WARN', msg: 'disk almost full' },
    });
    expect(p.parse('nope')).toBeUndefined();
  });

  it.each([
    ['%d/%b/%Y:%H:%M:%S %z', '10/Oct/2000:13:55:36 -0700', ns('2000-10-10T20:55:36Z')],
    ['%Y-%m-%dT%H:%M:%S.%L%z', '2021-01-01T00:00:00.5+01:00', ns('2020-12-31T23:00:00.5Z')],
    ['%s', '1700000000', 1_700_000_000_000_000_000n],
    ['%Y-%m-%d %T', '2022-05-06 07:08:09', ns('2022-05-06T07:08:09Z')],
  ])('time format %s', (fmt, text, want) => expect(compileTimeFormat(fmt)(text)).toBe(want));
});
