// A sliding window over a file read with readSync: the readers ask for [offset, offset + n)
// and get an index into one fixed buffer. Memory stays at one window whatever the file size,
// and no length read from the file is ever used to allocate (the window never grows).

import { openSync, readSync, closeSync, fstatSync } from "node:fs";

/** Window size: far above MAX_RECORD plus any block overhead, small enough to never matter. */
export const WINDOW_BYTES = 1 << 20;

export class FileWindow {
  readonly buf: Buffer;
  readonly size: number;
  private fd: number;
  /** File offset of buf[0]. */
  private base = 0;
  /** Valid bytes in buf. */
  private valid = 0;

  constructor(readonly file: string, windowBytes = WINDOW_BYTES) {
    this.fd = openSync(file, "r");
    try {
      this.size = fstatSync(this.fd).size;
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
    this.buf = Buffer.allocUnsafe(windowBytes);
  }

  /** Bytes of the file from `offset` to its end. */
  remaining(offset: number): number {
    return Math.max(0, this.size - offset);
  }

  /**
   * Index into `buf` where bytes [offset, offset + n) start. The caller has checked that they
   * lie inside the file and that n fits the window.
   */
  at(offset: number, n: number): number {
    if (offset >= this.base && offset + n <= this.base + this.valid) return offset - this.base;
    this.fill(offset);
    if (n > this.valid) throw new Error(`internal: window of ${this.valid} bytes at ${offset} cannot hold ${n}`);
    return 0;
  }

  private fill(offset: number): void {
    let got = 0;
    const want = Math.min(this.buf.length, this.remaining(offset));
    while (got < want) {
      const n = readSync(this.fd, this.buf, got, want - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    this.base = offset;
    this.valid = got;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
