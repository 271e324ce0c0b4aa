import type { Parser } from '../plugin.js';
import { compileTimeFormat, parseRfc3339 } from './time.js';

type Parsed = { time?: bigint; body: Record<string, unknown> };

/** `json`: one JSON object a line. */
function jsonParse(text: string): Parsed | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v)
      ? { body: v as Record<string, unknown> }
      : undefined;
  } catch {
    return undefined;
  }
}

/** `logfmt`: `key=value key="quoted value" flag`; a bare key is `true`. */
export function logfmtParse(text: string): Parsed | undefined {
  const body: Record<string, unknown> = {};
  const re = /\s*([^\s=]+)(?:=("(?:[^"\\]|\\.)*"|\S*))?/y;
  let m: RegExpExecArray | null;
  let seen = false;
  while (re.lastIndex < text.length && (m = re.exec(text))) {
    seen = true;
    const raw = m[2];
    body[m[1]!] = raw === undefined ? true : raw.startsWith('"') ? unquote(raw) : raw;
  }
  return seen ? { body } : undefined;
}

function unquote(s: string): string {
  try {
    return JSON.parse(s) as string;
  } catch {
    return s.slice(1, -1);
  }
}

/** Scratch for syslog5424Parse's five header tokens (read into locals before it returns). */
const header: string[] = ['', '', '', '', ''];

/** RFC 5424 §6: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]`; `-` is a nil value. */
export function syslog5424Parse(text: string): Parsed | undefined {
  // Header fields are single tokens: scanned with char codes and indexOf (this runs once per message).
  if (text.charCodeAt(0) !== 0x3c) return undefined;
  let pri = 0;
  let gt = 1;
  for (; gt < 5; gt++) {
    const c = text.charCodeAt(gt);
    if (c < 0x30 || c > 0x39) break;
    pri = pri * 10 + c - 0x30;
  }
  if (gt < 2 || gt > 4 || text.charCodeAt(gt) !== 0x3e || pri > 191) return undefined;
  if (text.charCodeAt(gt + 1) !== 0x31 || text.charCodeAt(gt + 2) !== 0x20) return undefined;
  let p = gt + 3;
  // TIMESTAMP HOSTNAME APP-NAME PROCID MSGID: five non-empty tokens, each ended by one SP.
  const f = header;
  for (let i = 0; i < 5; i++) {
    const sp = text.indexOf(' ', p);
    if (sp <= p) return undefined;
    f[i] = text.slice(p, sp);
    p = sp + 1;
  }
  const stamp = f[0]!;
  const host = f[1]!;
  const ident = f[2]!;
  const pid = f[3]!;
  const msgid = f[4]!;
  let sd: string;
  if (text.charCodeAt(p) === 0x2d) {
    sd = '-';
    p++;
  } else {
    const m = sdRe.exec(text.slice(p));
    if (!m) return undefined;
    sd = m[0];
    p += sd.length;
  }
  if (p < text.length && text.charCodeAt(p) !== 0x20) return undefined;
  const time = stamp === '-' ? undefined : parseRfc3339(stamp);
  if (stamp !== '-' && time === undefined) return undefined;
  const body: Record<string, unknown> = { pri };
  if (host !== '-') body.host = host;
  if (ident !== '-') body.ident = ident;
  if (pid !== '-') body.pid = pid;
  if (msgid !== '-') body.msgid = msgid;
  if (sd !== '-') body.extradata = sd;
  // RFC 5424 §6.4: MSG may start with a UTF-8 BOM.
  if (p < text.length) body.message = text.slice(text.charCodeAt(p + 1) === 0xfeff ? p + 2 : p + 1);
  return time === undefined ? { body } : { time, body };
}

/** One or more SD-ELEMENTs; `]`, `"` and `\` are escaped inside PARAM-VALUEs (§6.3.3). */
const sdRe = /^(?:\[(?:[^\]"\\]|"(?:[^"\\]|\\.)*")*\])+/;

const stamp3164 = compileTimeFormat('%b %e %H:%M:%S');

function parse3164(text: string, withHost: boolean): Parsed | undefined {
  const m = withHost
    ? /^<(\d{1,3})>([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}) (\S+) ([^:[\s]+)(?:\[([^\]]*)\])?:? ?(.*)$/s.exec(
        text,
      )
    : /^<(\d{1,3})>([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}) ()([^:[\s]+)(?:\[([^\]]*)\])?:? ?(.*)$/s.exec(
        text,
      );
  if (!m || Number(m[1]) > 191) return undefined;
  const time = stamp3164(m[2]!);
  if (time === undefined) return undefined;
  const body: Record<string, unknown> = { pri: Number(m[1]) };
  if (withHost) body.host = m[3];
  body.ident = m[4];
  if (m[5] !== undefined) body.pid = m[5];
  body.message = m[6];
  return { time, body };
}

/** RFC 3164 §4.1: `<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG` (no year: the current one, UTC). */
export const syslog3164Parse = (text: string) => parse3164(text, true);
/** The local-socket variant without HOST (what /dev/log receives). */
export const syslog3164LocalParse = (text: string) => parse3164(text, false);

/** The local form's TAG right after the time: a word ending in ':' or carrying `[pid]`. */
const LOCAL_TAG = /^<\d{1,3}>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} [^:[\s]+(?:\[[^\]]*\])?:/;

/**
 * Any syslog line a sender may write: RFC 5424, else RFC 3164 with HOST (what `logger --rfc3164`
 * sends over the network) or without it (what /dev/log receives), told apart by the word after the
 * time (a TAG ends in ':' or carries `[pid]`; a HOST does neither).
 */
export function syslogAutoParse(text: string): Parsed | undefined {
  return (
    syslog5424Parse(text) ??
    (LOCAL_TAG.test(text) ? syslog3164LocalParse(text) : undefined) ??
    syslog3164Parse(text) ??
    syslog3164LocalParse(text)
  );
}

/** The parsers every config has without declaring them. */
export function builtinParsers(): Map<string, Parser> {
  const list: Parser[] = [
    { name: 'json', parse: jsonParse },
    { name: 'logfmt', parse: logfmtParse },
    { name: 'syslog-rfc5424', parse: syslog5424Parse },
    { name: 'syslog-rfc3164', parse: syslog3164Parse },
    { name: 'syslog-rfc3164-local', parse: syslog3164LocalParse },
  ];
  return new Map(list.map((p) => [p.name, p]));
}

export interface ParserSpec {
  name: string;
  format: 'json' | 'regex' | 'logfmt';
  regex?: string;
  time_key?: string;
  time_format?: string;
  time_keep?: boolean;
}

/** Builds a configured parser (`parsers:` section): format plus time_key/time_format handling. */
export function buildParser(spec: ParserSpec): Parser {
  let base: (t: string) => Parsed | undefined;
  if (spec.format === 'regex') {
    const re = new RegExp(spec.regex ?? '', 's');
    base = (t) => {
      const m = re.exec(t);
      return m?.groups ? { body: { ...m.groups } } : undefined;
    };
  } else base = spec.format === 'json' ? jsonParse : logfmtParse;
  const timeOf = spec.time_format ? compileTimeFormat(spec.time_format) : (v: string) => parseRfc3339(v);
  return {
    name: spec.name,
    parse(text) {
      const p = base(text);
      if (!p || !spec.time_key) return p;
      const raw = p.body[spec.time_key];
      if (raw === undefined) return p;
      const time = typeof raw === 'number' ? BigInt(Math.round(raw * 1e9)) : timeOf(String(raw));
      if (time === undefined) return p;
      if (!spec.time_keep) delete p.body[spec.time_key];
      return { time, body: p.body };
    },
  };
}
