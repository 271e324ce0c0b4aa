/** What a splitter hands back: complete frames and frames it had to throw away. */
export interface SplitResult {
  frames: Buffer[];
  /** Frames longer than the limit (discarded up to the next boundary) and garbage between frames. */
  rejected: Array<{ reason: 'too_large' | 'garbage'; bytes: number }>;
}

/**
 * Splits a byte stream on a separator of any length (`\n`, `\r\n`, `||`). Pure and incremental:
 * bytes in, frames out, the unfinished tail kept for the next push. A frame that grows past
 * `maxFrame` is rejected as soon as it does, and bytes are skipped until the next separator.
 */
export class SeparatorSplitter {
  private tail: Buffer = Buffer.alloc(0);
  private skipping = false;
  private readonly sep: Buffer;

  constructor(
    separator: string | Buffer,
    private readonly maxFrame: number,
  ) {
    this.sep = typeof separator === 'string' ? Buffer.from(separator) : separator;
    if (this.sep.length === 0) throw new RangeError('separator must not be empty');
  }

  push(chunk: Buffer): SplitResult {
    const out: SplitResult = { frames: [], rejected: [] };
    let buf = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    let start = 0;
    for (;;) {
      // A separator may straddle the old tail and the new chunk; searching the joined buffer covers it.
      const i = buf.indexOf(this.sep, start);
      if (i < 0) break;
      if (this.skipping) this.skipping = false;
      else if (i - start > this.maxFrame) out.rejected.push({ reason: 'too_large', bytes: i - start });
      else if (i > start) out.frames.push(buf.subarray(start, i));
      start = i + this.sep.length;
    }
    buf = buf.subarray(start);
    if (!this.skipping && buf.length > this.maxFrame + this.sep.length - 1) {
      // Keep the last sep-1 bytes: they may begin a separator.
      const keep = this.sep.length - 1;
      out.rejected.push({ reason: 'too_large', bytes: buf.length - keep });
      this.skipping = true;
      buf = buf.subarray(buf.length - keep);
    } else if (this.skipping && buf.length >= this.sep.length) {
      buf = buf.subarray(buf.length - (this.sep.length - 1));
    }
    this.tail = Buffer.from(buf);
    return out;
  }

  /** Bytes held waiting for a separator. */
  pending(): number {
    return this.tail.length;
  }

  /** The unterminated last frame, if any (used when the peer closes). */
  end(): Buffer | undefined {
    const t = this.tail;
    this.tail = Buffer.alloc(0);
    const skipping = this.skipping;
    this.skipping = false;
    return t.length && !skipping ? t : undefined;
  }
}

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const OPEN_A = 0x5b; // [
const CLOSE_A = 0x5d; // ]
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Splits a stream of concatenated JSON objects (`{..}{..}` or one per line) into one frame per
 * top-level object, tracking strings and nesting. Incremental: state survives between pushes, so an
 * object split at any byte comes out whole. Bytes outside an object other than whitespace are
 * garbage: rejected and skipped up to the next `{`. An object longer than `maxFrame` is rejected and
 * skipped to its end.
 */
export class JsonObjectSplitter {
  private tail: Buffer = Buffer.alloc(0);
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Offset in tail where scanning resumes. */
  private scanned = 0;
  private skippedLen = 0;
  private skipping = false;

  constructor(private readonly maxFrame: number) {}

  push(chunk: Buffer): SplitResult {
    const out: SplitResult = { frames: [], rejected: [] };
    const buf = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    let start = this.depth > 0 ? 0 : -1;
    let garbage = 0;
    let i = this.scanned;
    const n = buf.length;
    for (; i < n; i++) {
      const c = buf[i]!;
      if (this.depth === 0) {
        if (c === OPEN) {
          if (garbage) out.rejected.push({ reason: 'garbage', bytes: garbage });
          garbage = 0;
          start = i;
          this.depth = 1;
        } else if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) garbage++;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN || c === OPEN_A) this.depth++;
      else if (c === CLOSE || c === CLOSE_A) {
        this.depth--;
        if (this.depth === 0) {
          const len = i + 1 - start + this.skippedLen;
          if (this.skipping || len > this.maxFrame) out.rejected.push({ reason: 'too_large', bytes: len });
          else out.frames.push(buf.subarray(start, i + 1));
          this.skipping = false;
          this.skippedLen = 0;
          start = -1;
        }
      }
    }
    if (garbage) out.rejected.push({ reason: 'garbage', bytes: garbage });
    if (this.depth > 0) {
      const held = n - start;
      if (this.skipping || held > this.maxFrame) {
        // Too long already: drop what we hold but keep tracking nesting to find its end.
        this.skipping = true;
        this.skippedLen += held;
        this.tail = Buffer.alloc(0);
        this.scanned = 0;
        // Scanning resumes at 0 of the next chunk with start 0.
      } else {
        this.tail = Buffer.from(buf.subarray(start));
        this.scanned = n - start;
      }
    } else {
      this.tail = Buffer.alloc(0);
      this.scanned = 0;
    }
    return out;
  }

  pending(): number {
    return this.tail.length;
  }
}

/**
 * Reads JSON objects from a stream. Starts in line mode (split on LF, `JSON.parse` each line: the
 * common case of one object a line, and as fast as a bare reader); the first line that is not a
 * whole object, or is longer than `maxFrame`, switches the stream for good to a
 * {@link JsonObjectSplitter} fed from that line on, which handles objects spanning lines,
 * concatenated objects, garbage and oversize objects.
 */
export class JsonRecordReader {
  private tail: Buffer = Buffer.alloc(0);
  private scanner: JsonObjectSplitter | undefined;

  constructor(private readonly maxFrame: number) {}

  push(chunk: Buffer): {
    bodies: Array<Record<string, unknown>>;
    rejected: SplitResult['rejected'];
    invalid: string[];
  } {
    const out = {
      bodies: [] as Array<Record<string, unknown>>,
      rejected: [] as SplitResult['rejected'],
      invalid: [] as string[],
    };
    if (this.scanner) return this.scan(chunk, out);
    const tail = this.tail;
    const last = chunk.lastIndexOf(0x0a);
    if (last < 0) {
      const buf = tail.length ? Buffer.concat([tail, chunk]) : Buffer.from(chunk);
      if (buf.length > this.maxFrame) return this.fallback(buf, out);
      this.tail = buf;
      return out;
    }
    // LF never occurs inside a multi-byte UTF-8 sequence, so the text between two decodes whole.
    // The chunk is decoded where it lies; only the held tail and the chunk's first line are joined
    // (copying every chunk behind a tail cost more than the rest of the framing).
    let lines: string[];
    if (!tail.length) lines = chunk.toString('utf8', 0, last).split('\n');
    else {
      const first = chunk.indexOf(0x0a);
      lines = first === last ? [] : chunk.toString('utf8', first + 1, last).split('\n');
      lines.unshift(Buffer.concat([tail, chunk.subarray(0, first)]).toString('utf8'));
    }
    const bodies = out.bodies;
    for (let k = 0; k < lines.length; k++) {
      const line = lines[k]!;
      // Blank lines are skipped; a line that starts with '{' is the common case and needs no trim.
      if (line.length === 0 || (line.charCodeAt(0) !== OPEN && line.trim() === '')) continue;
      let v: unknown;
      // UTF-8 takes at most 3 bytes per UTF-16 unit: only lines that could be over the limit are measured.
      if (line.length * 3 <= this.maxFrame || Buffer.byteLength(line) <= this.maxFrame) {
        try {
          v = JSON.parse(line);
        } catch {
          v = undefined;
        }
      }
      if (!v || typeof v !== 'object' || Array.isArray(v)) {
        // Rare: from this line on, the byte-exact object scanner takes over (offsets measured now).
        let offset = 0;
        for (let j = 0; j < k; j++) offset += Buffer.byteLength(lines[j]!) + 1;
        const buf = tail.length ? Buffer.concat([tail, chunk]) : chunk;
        return this.fallback(buf.subarray(offset), out);
      }
      bodies.push(v as Record<string, unknown>);
    }
    this.tail = Buffer.from(chunk.subarray(last + 1));
    if (this.tail.length > this.maxFrame) return this.fallback(this.tail, out);
    return out;
  }

  pending(): number {
    return this.scanner ? this.scanner.pending() : this.tail.length;
  }

  /**
   * The stream ended: objects still held without a newline after them (`echo -n '{"a":1}' | nc`)
   * are read too; what is left after them (see pending) was cut off.
   */
  end(): ReturnType<JsonRecordReader['push']> {
    const out = { bodies: [], rejected: [], invalid: [] };
    if (this.scanner || this.tail.length === 0) return out;
    return this.fallback(this.tail, out);
  }

  private fallback(rest: Buffer, out: ReturnType<JsonRecordReader['push']>) {
    this.scanner = new JsonObjectSplitter(this.maxFrame);
    this.tail = Buffer.alloc(0);
    return this.scan(rest, out);
  }

  private scan(chunk: Buffer, out: ReturnType<JsonRecordReader['push']>) {
    const r = this.scanner!.push(chunk);
    out.rejected.push(...r.rejected);
    for (const f of r.frames) {
      try {
        out.bodies.push(JSON.parse(f.toString('utf8')) as Record<string, unknown>);
      } catch (err) {
        out.invalid.push((err as Error).message);
      }
    }
    return out;
  }
}
