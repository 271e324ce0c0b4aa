/** The counters nginx's stub_status page shows. */
export interface StubStatus {
  active: number;
  accepted: number;
  handled: number;
  requests: number;
  reading: number;
  writing: number;
  waiting: number;
}

const re =
  /^Active connections:\s*(\d+)\s*\nserver accepts handled requests\s*\n\s*(\d+)\s+(\d+)\s+(\d+)\s*\nReading:\s*(\d+)\s+Writing:\s*(\d+)\s+Waiting:\s*(\d+)\s*$/;

/** Parses ngx_http_stub_status_module's plain-text page; undefined when it is not one. */
export function parseStubStatus(text: string): StubStatus | undefined {
  const m = re.exec(text.replace(/\r\n/g, '\n').trim());
  if (!m) return undefined;
  const n = m.slice(1).map(Number);
  // A counter past 2^53 cannot be represented exactly: refuse rather than report a wrong value.
  if (!n.every(Number.isSafeInteger)) return undefined;
  return {
    active: n[0]!,
    accepted: n[1]!,
    handled: n[2]!,
    requests: n[3]!,
    reading: n[4]!,
    writing: n[5]!,
    waiting: n[6]!,
  };
}
