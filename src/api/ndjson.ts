// Owns NDJSON framing: cutting a byte stream into lines, with each line's number, never holding
// more than one unfinished line, and that one no longer than a limit. Hand-written rather than
// node:readline (which keeps growing a line until it sees a newline, so one endless line would
// be held whole) or split2 (not a dependency of ours; its maxLength is the same few lines).
// A line ends at "\n" (a "\r" before it is dropped); the byte 0x0A never occurs inside a UTF-8
// sequence, so each line is decoded on its own.
import { createError } from '../errors/index.js';

export interface Line {
  /** 1-based, counting blank lines too, as an editor shows them. */
  number: number;
  text: string;
  /** Bytes the line took in the body, its newline included. */
  bytes: number;
}

export class LineSplitter {
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private number = 0;

  /** `maxLineBytes`: a longer line is a 413 LINE_TOO_LONG as soon as it passes the limit. */
  constructor(private readonly maxLineBytes: number) {}

  /** Bytes of the unfinished line held until its newline arrives. */
  get pendingBytes(): number {
    return this.carryBytes;
  }

  /** The lines completed by `chunk`, in order. */
  push(chunk: Buffer): Line[] {
    const lines: Line[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      this.check(this.carryBytes + piece.length);
      const whole = this.carryBytes === 0 ? piece : Buffer.concat([...this.carry, piece], this.carryBytes + piece.length);
      lines.push(this.line(whole, whole.length + 1));
      this.carry = [];
      this.carryBytes = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.check(this.carryBytes + rest.length);
      // A copy: a subarray would keep the whole chunk alive for the sake of its tail.
      this.carry.push(Buffer.from(rest));
      this.carryBytes += rest.length;
    }
    return lines;
  }

  /** The last line, when the body does not end with a newline. */
  end(): Line | undefined {
    if (this.carryBytes === 0) return undefined;
    const whole = Buffer.concat(this.carry, this.carryBytes);
    this.carry = [];
    this.carryBytes = 0;
    return this.line(whole, whole.length);
  }

  private check(bytes: number): void {
    if (bytes > this.maxLineBytes) throw createError('LINE_TOO_LONG', { line: this.number + 1, limit: this.maxLineBytes });
  }

  private line(buf: Buffer, bytes: number): Line {
    this.number++;
    let text = buf.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (this.number === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return { number: this.number, text, bytes };
  }
}
