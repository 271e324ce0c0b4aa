/**
 * POSIX tar (ustar) headers with a PAX extended header where a name, link target or size does not
 * fit. Written here rather than through a tar library because the bytes are the product: an image
 * digest is only reproducible when every header field is chosen, not defaulted.
 */

type TarEntryType = 'file' | 'directory' | 'symlink';

export interface TarHeader {
  /** Path inside the archive, relative, `/`-separated; directories without the trailing `/`. */
  name: string;
  type: TarEntryType;
  /** Permission bits (and setuid/setgid/sticky), e.g. 0o755. */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of content (0 for directories and links). */
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Link target of a symlink. */
  linkname?: string;
}

export const BLOCK = 512;

const TYPEFLAG: Record<TarEntryType | 'pax', string> = { file: '0', directory: '5', symlink: '2', pax: 'x' };
const MAX_OCTAL_11 = 0o77777777777;

function octal(buf: Buffer, offset: number, width: number, value: number): void {
  // width includes the terminating NUL
  buf.write(value.toString(8).padStart(width - 1, '0') + '\0', offset, width, 'ascii');
}

function fits(value: string, bytes: number): boolean {
  // ustar fields are bytes; anything not plain ASCII goes to PAX so that no reader guesses an encoding
  return Buffer.byteLength(value) <= bytes && /^[\x20-\x7e]*$/.test(value);
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body);
  let digits = String(len).length;
  while (String(len + digits).length !== digits) digits++;
  len += digits;
  return `${len}${body}`;
}

function ustar(h: TarHeader & { typeflag: string }): Buffer {
  const buf = Buffer.alloc(BLOCK);
  buf.write(h.name, 0, 100, 'utf8');
  octal(buf, 100, 8, h.mode & 0o7777);
  octal(buf, 108, 8, h.uid);
  octal(buf, 116, 8, h.gid);
  octal(buf, 124, 12, h.size);
  octal(buf, 136, 12, h.mtime);
  buf.write('        ', 148, 8, 'ascii');
  buf.write(h.typeflag, 156, 1, 'ascii');
  if (h.linkname) buf.write(h.linkname, 157, 100, 'utf8');
  buf.write('ustar\u000000', 257, 8, 'ascii');
  let sum = 0;
  for (const byte of buf) sum += byte;
  buf.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return buf;
}

/** Zero bytes that pad `size` bytes of content to a whole block. */
export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/**
 * The header block(s) for one entry: a PAX `x` header first when the path, link target or size does
 * not fit ustar, then the ustar header.
 */
export function encodeHeader(h: TarHeader): Buffer {
  const name = h.type === 'directory' ? `${h.name}/` : h.name;
  const pax: string[] = [];
  if (!fits(name, 100)) pax.push(paxRecord('path', name));
  if (h.linkname !== undefined && !fits(h.linkname, 100)) pax.push(paxRecord('linkpath', h.linkname));
  if (h.size > MAX_OCTAL_11) pax.push(paxRecord('size', String(h.size)));
  const main = ustar({
    ...h,
    name: fits(name, 100) ? name : name.replace(/[^\x20-\x7e]/g, '_').slice(-100),
    linkname: h.linkname !== undefined && !fits(h.linkname, 100) ? '' : h.linkname,
    size: h.size > MAX_OCTAL_11 ? 0 : h.size,
    typeflag: TYPEFLAG[h.type],
  });
  if (pax.length === 0) return main;
  const body = Buffer.from(pax.join(''), 'utf8');
  const header = ustar({
    name: 'PaxHeader',
    type: 'file',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime: h.mtime,
    typeflag: TYPEFLAG.pax,
  });
  return Buffer.concat([header, body, padding(body.length), main]);
}

/** The end of an archive: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
