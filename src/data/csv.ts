// Line-by-line text reading with a bound on line length, and a small CSV record splitter.
//
// FER2013's CSV is about 300 MB, so it is streamed, never read into one string. A file without
// newlines cannot make the reader buffer without bound: a line longer than `maxLineBytes` is an
// error that names the file and the line.

import { open } from 'node:fs/promises';

export interface Line {
  /** 1-based line number. */
  number: number;
  text: string;
}

/** Yields the lines of a UTF-8 text file (without "\n" or a trailing "\r"). */
export async function* readLines(path: string, maxLineBytes: number, name = path): AsyncGenerator<Line> {
  const file = await open(path, 'r');
  try {
    const chunk = Buffer.alloc(1 << 16);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let number = 0;
    const finish = (tail: Buffer): string => {
      const buf = pending.length ? Buffer.concat([...pending, tail]) : tail;
      pending = [];
      pendingBytes = 0;
      const end = buf.length > 0 && buf[buf.length - 1] === 0x0d ? buf.length - 1 : buf.length;
      return buf.toString('utf8', 0, end);
    };
    for (;;) {
      const { bytesRead } = await file.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, start);
        const end = nl < 0 || nl >= bytesRead ? bytesRead : nl;
        if (pendingBytes + end - start > maxLineBytes) {
          throw new Error(`${name}:${number + 1}: line longer than ${maxLineBytes} bytes (limits.maxLineBytes)`);
        }
        if (end === bytesRead) {
          pending.push(Buffer.from(chunk.subarray(start, bytesRead)));
          pendingBytes += bytesRead - start;
          break;
        }
        number++;
        yield { number, text: finish(chunk.subarray(start, end)) };
        start = end + 1;
      }
    }
    if (pendingBytes > 0) {
      number++;
      yield { number, text: finish(Buffer.alloc(0)) };
    }
  } finally {
    await file.close();
  }
}

/**
 * Splits one CSV record into fields (RFC 4180 quoting with "" escapes; no newlines inside
 * fields). Fields are trimmed of surrounding spaces, which some FER2013 copies have after commas.
 */
export function splitCsv(line: string, where: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ') i++;
    if (line[i] === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) throw new Error(`${where}: unterminated quoted field`);
        value += line.slice(j, q);
        if (line[q + 1] === '"') { value += '"'; j = q + 2; continue; }
        i = q + 1;
        break;
      }
      while (line[i] === ' ') i++;
      if (i < line.length && line[i] !== ',') throw new Error(`${where}: text after a closing quote`);
      fields.push(value);
    } else {
      const c = line.indexOf(',', i);
      const end = c < 0 ? line.length : c;
      fields.push(line.slice(i, end).trim());
      i = end;
    }
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

/** Finds required columns in a header row (case-insensitive); the error lists what was found. */
export function columnIndex(header: string[], wanted: readonly string[], where: string): number[] {
  const lower = header.map((h) => h.trim().toLowerCase());
  return wanted.map((w) => {
    const i = lower.indexOf(w.toLowerCase());
    if (i < 0) throw new Error(`${where}: missing column "${w}" (header has: ${header.join(', ')})`);
    return i;
  });
}

/** Parses an integer field in [min, max]; the error names the column and line. */
export function intField(text: string, min: number, max: number, what: string, where: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new Error(`${where}: ${what} "${text}" is not an integer`);
  const v = Number(text);
  if (v < min || v > max) throw new Error(`${where}: ${what} ${v} is out of range ${min}..${max}`);
  return v;
}
