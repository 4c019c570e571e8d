// Classic pcap writer (pcap-savefile(5)), little-endian, buffered. Nanosecond magic when asked
// (the replay asks when its input had nanosecond timestamps), microseconds otherwise.

import { openSync, writeSync, closeSync } from "node:fs";
import { LINKTYPE_ETHERNET, MAX_RECORD } from "./types.js";
import { OutputError, describeFsError } from "../util/output-file.js";
import { reasons } from "./reasons.js";

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
const BUFFER_BYTES = 1 << 20;

export interface PcapWriterOptions {
  /** Write the nanosecond magic and ns fractions (default false: µs, fractions truncated). */
  nanosecond?: boolean;
  linkType?: number;
  /** Snap length to declare (default 262144); frames are never cut to it. */
  snapLen?: number;
  /** The path to open, when not `file` itself (a temporary file beside it: src/util/output-file.ts). */
  openPath?: string;
  /**
   * Called once on the first write error (ENOSPC, EIO, EROFS...); later frames are discarded so
   * the run can finish and report. Without it the error is thrown (an OutputError).
   */
  onFailure?: (e: OutputError) => void;
}

/** Encodes the 24-byte file header (exported for tests and for writers into memory). */
export function pcapFileHeader(opts: PcapWriterOptions = {}): Buffer {
  const h = Buffer.alloc(GLOBAL_HEADER);
  h.writeUInt32LE(opts.nanosecond ? MAGIC_NS : MAGIC_US, 0);
  h.writeUInt16LE(2, 4); // version 2.4
  h.writeUInt16LE(4, 6);
  // thiszone and sigfigs (8..15) stay 0, as pcap-savefile(5) asks.
  h.writeUInt32LE(opts.snapLen ?? MAX_RECORD, 16);
  h.writeUInt32LE(opts.linkType ?? LINKTYPE_ETHERNET, 20);
  return h;
}

/** Writes classic little-endian pcap, buffered. */
export class PcapWriter {
  private fd: number;
  private buf = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;
  private readonly nano: boolean;
  frames = 0;

  /** True when records carry nanosecond fractions. */
  get nanosecond(): boolean {
    return this.nano;
  }
  bytes = 0;

  /** The first write error, if any (see PcapWriterOptions.onFailure). */
  failure?: OutputError;
  private readonly onFailure?: (e: OutputError) => void;

  constructor(readonly file: string, opts: PcapWriterOptions = {}) {
    this.nano = opts.nanosecond ?? false;
    this.onFailure = opts.onFailure;
    try {
      this.fd = openSync(opts.openPath ?? file, "w");
    } catch (e) {
      throw new OutputError(file, `cannot create: ${describeFsError(e)}`);
    }
    this.put(pcapFileHeader(opts));
  }

  /** Every byte goes out through here: a write error is reported once, as one line. */
  private put(b: Uint8Array, length = b.length): void {
    if (this.failure) return;
    try {
      let done = 0;
      while (done < length) done += writeSync(this.fd, b, done, length - done);
    } catch (e) {
      this.failure = new OutputError(this.file, `write failed after ${this.frames} frames: ${describeFsError(e)}`);
      if (!this.onFailure) throw this.failure;
      this.onFailure(this.failure);
    }
  }

  write(data: Uint8Array, tsNs: bigint, origLen = data.length): void {
    const sec = tsNs / 1_000_000_000n;
    if (tsNs < 0n || sec > 0xffffffffn) throw new RangeError(`${this.file}: ${reasons.timestampPastPcap(tsNs)}`);
    this.writeSplit(data, Number(sec), Number(tsNs % 1_000_000_000n), origLen);
  }

  /** The same with the timestamp already split (the datapath's wire records carry it so):
   *  no 64-bit arithmetic per frame. */
  writeSplit(data: Uint8Array, sec: number, nsec: number, origLen = data.length): void {
    if (this.fd < 0) throw new Error(`${this.file}: write after close`);
    if (data.length > MAX_RECORD) throw new RangeError(`${this.file}: frame of ${data.length} bytes exceeds the ${MAX_RECORD}-byte pcap record limit`);
    if (this.used + RECORD_HEADER + data.length > this.buf.length) this.flush();
    const b = this.buf;
    let o = this.used;
    b.writeUInt32LE(sec, o);
    b.writeUInt32LE(this.nano ? nsec : Math.floor(nsec / 1000), o + 4);
    b.writeUInt32LE(data.length, o + 8);
    b.writeUInt32LE(Math.max(origLen, data.length), o + 12);
    o += RECORD_HEADER;
    b.set(data, o);
    this.used = o + data.length;
    this.frames++;
    this.bytes += data.length;
  }

  /** Appends finished pcap records (built elsewhere, e.g. by the core's wireToPcap). */
  writeRecords(records: Uint8Array, frames: number): void {
    if (this.fd < 0) throw new Error(`${this.file}: write after close`);
    this.flush();
    this.put(records);
    this.frames += frames;
    this.bytes += records.length - 16 * frames;
  }

  flush(): void {
    if (this.used > 0) this.put(this.buf, this.used);
    this.used = 0;
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      this.flush();
    } finally {
      try {
        closeSync(this.fd); // close(2) is where NFS and some FUSE file systems report write errors
      } catch (e) {
        this.failure ??= new OutputError(this.file, `write failed on close: ${describeFsError(e)}`);
      }
      this.fd = -1;
    }
  }
}
