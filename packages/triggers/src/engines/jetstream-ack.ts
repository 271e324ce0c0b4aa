/**
 * What a JetStream message's ack subject tells (NATS ADR-15): the stream sequence, how many times it
 * was delivered, and when it was stored. Two forms:
 * - `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>` (9 tokens);
 * - `$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>[.<token>]`
 *   (11 or 12 tokens; `_` for no domain).
 * Stream and consumer names hold no dots, so the tokens are found by counting dots; numbers are
 * read digit by digit, not split into an array of strings per message.
 */
export interface AckInfo {
  /** The stream sequence, as text (the delivery's id). */
  readonly id: string;
  /** 1 on first delivery. */
  readonly attempt: number;
  /** When the stream stored it, epoch ms. */
  readonly ms: number;
}

/** Digits of `s` from `from` to `to` as a number; NaN when any is not a digit or there are none. */
function digits(s: string, from: number, to: number): number {
  if (to <= from) return NaN;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    n = n * 10 + c;
  }
  return n;
}

const PREFIX = '$JS.ACK.';
/** Dots in each form: 8 (9 tokens), 10 (11), 11 (12). */
const MAX_DOTS = 12;

/** The ack subject's delivery facts, or undefined when `reply` is not a JetStream ack subject. */
export function parseAckReply(reply: string): AckInfo | undefined {
  if (!reply.startsWith(PREFIX)) return undefined;
  const dots: number[] = [];
  for (let i = reply.indexOf('.'); i !== -1; i = reply.indexOf('.', i + 1)) {
    dots.push(i);
    if (dots.length > MAX_DOTS) return undefined;
  }
  const n = dots.length;
  // the index of the dot before <delivered>: token 4 in the 9-token form, token 6 in the others
  let at: number;
  if (n === 8) at = 3;
  else if (n === 10 || n === 11) at = 5;
  else return undefined;
  const attempt = digits(reply, dots[at]! + 1, dots[at + 1]!);
  const sseqFrom = dots[at + 1]! + 1;
  const sseqTo = dots[at + 2]!;
  const sseq = digits(reply, sseqFrom, sseqTo);
  // nanoseconds: more digits than a double holds exactly; the milliseconds are what is kept
  const tsFrom = dots[at + 3]! + 1;
  const tsTo = dots[at + 4]!;
  const ms = tsTo - tsFrom > 6 ? digits(reply, tsFrom, tsTo - 6) + digits(reply, tsTo - 6, tsTo) / 1e6 : NaN;
  if (!(attempt >= 1) || !(sseq >= 1) || Number.isNaN(ms)) return undefined;
  // the text as the server wrote it (exact past 2^53); leading zeros (never sent) read as the number
  const id = reply.charCodeAt(sseqFrom) === 48 ? String(sseq) : reply.slice(sseqFrom, sseqTo);
  return { id, attempt, ms };
}
