// Classic pcap (https://www.tcpdump.org/manpages/pcap-savefile.5.html): a 24-byte global header
// then records of [ts_sec, ts_usec|ts_nsec, incl_len, orig_len] + incl_len bytes. Both byte
// orders; microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d) magic.

import { openSync, readSync, closeSync, fstatSync, writeSync } from "node:fs";
import { CaptureError, CaptureFrame, CaptureInfo, LINKTYPE_ETHERNET } from "./types.js";

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
/** Largest record we accept whatever the snap length says (tcpdump's MAXIMUM_SNAPLEN). */
export const MAX_RECORD = 262144;

/** Reads a whole classic pcap file, calling `onFrame` for each record in order. */
export function readPcapFile(file: string, onFrame: (f: CaptureFrame) => void): CaptureInfo {
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(GLOBAL_HEADER);
    const got = readSync(fd, head, 0, GLOBAL_HEADER, 0);
    if (got < 4) throw new CaptureError(file, 0, size === 0 ? "empty file, not a capture" : "file too short for a pcap header");
    const magicLE = head.readUInt32LE(0);
    const magicBE = head.readUInt32BE(0);
    let le: boolean;
    let nano: boolean;
    if (magicLE === PCAP_MAGIC_US || magicLE === PCAP_MAGIC_NS) {
      le = true;
      nano = magicLE === PCAP_MAGIC_NS;
    } else if (magicBE === PCAP_MAGIC_US || magicBE === PCAP_MAGIC_NS) {
      le = false;
      nano = magicBE === PCAP_MAGIC_NS;
    } else {
      throw new CaptureError(file, 0, `not a pcap file (magic 0x${magicBE.toString(16).padStart(8, "0")})`);
    }
    if (got < GLOBAL_HEADER) throw new CaptureError(file, got, `pcap global header cut short (${got} of 24 bytes)`);
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const snapLen = u32(head, 16);
    const linkType = u32(head, 20) & 0x0fffffff;
    const limit = Math.min(snapLen > 0 ? Math.max(snapLen, 65535) : MAX_RECORD, MAX_RECORD);
    const rec = Buffer.alloc(RECORD_HEADER);
    let data = Buffer.alloc(65536);
    let offset = GLOBAL_HEADER;
    let frames = 0;
    let bytes = 0;
    while (offset < size) {
      const h = readSync(fd, rec, 0, RECORD_HEADER, offset);
      if (h < RECORD_HEADER) throw new CaptureError(file, offset, `record header cut short (${RECORD_HEADER - h} bytes missing)`);
      const sec = u32(rec, 0);
      const frac = u32(rec, 4);
      const incl = u32(rec, 8);
      const orig = u32(rec, 12);
      if (incl > limit) throw new CaptureError(file, offset, `record length ${incl} exceeds the limit of ${limit} bytes (snap length ${snapLen})`);
      if (incl > data.length) data = Buffer.alloc(Math.max(incl, data.length * 2));
      const n = readSync(fd, data, 0, incl, offset + RECORD_HEADER);
      if (n < incl) throw new CaptureError(file, offset, `record cut short: ${incl - n} of ${incl} bytes missing`);
      const tsNs = BigInt(sec) * 1_000_000_000n + BigInt(nano ? frac : frac * 1000);
      onFrame({ data: data.subarray(0, incl), tsNs, origLen: orig });
      frames++;
      bytes += incl;
      offset += RECORD_HEADER + incl;
    }
    return { format: "pcap", linkType, nanosecond: nano, snapLen, frames, bytes };
  } finally {
    closeSync(fd);
  }
}

export interface PcapWriterOptions {
  nanosecond?: boolean;
  linkType?: number;
  snapLen?: number;
}

/** Writes classic little-endian pcap, buffered. */
export class PcapWriter {
  private fd: number;
  private buf = Buffer.alloc(1 << 20);
  private used = 0;
  private readonly nano: boolean;
  frames = 0;

  constructor(readonly file: string, opts: PcapWriterOptions = {}) {
    this.nano = opts.nanosecond ?? false;
    this.fd = openSync(file, "w");
    const h = Buffer.alloc(GLOBAL_HEADER);
    h.writeUInt32LE(this.nano ? PCAP_MAGIC_NS : PCAP_MAGIC_US, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(opts.snapLen ?? MAX_RECORD, 16);
    h.writeUInt32LE(opts.linkType ?? LINKTYPE_ETHERNET, 20);
    writeSync(this.fd, h);
  }

  write(data: Uint8Array, tsNs: bigint, origLen = data.length): void {
    if (this.used + RECORD_HEADER + data.length > this.buf.length) this.flush();
    if (RECORD_HEADER + data.length > this.buf.length) this.buf = Buffer.alloc(RECORD_HEADER + data.length);
    const sec = tsNs / 1_000_000_000n;
    const frac = tsNs % 1_000_000_000n;
    const b = this.buf;
    let o = this.used;
    b.writeUInt32LE(Number(sec & 0xffffffffn), o);
    b.writeUInt32LE(Number(this.nano ? frac : frac / 1000n), o + 4);
    b.writeUInt32LE(data.length, o + 8);
    b.writeUInt32LE(Math.max(origLen, data.length), o + 12);
    o += RECORD_HEADER;
    b.set(data, o);
    this.used = o + data.length;
    this.frames++;
  }

  flush(): void {
    if (this.used > 0) writeSync(this.fd, this.buf, 0, this.used);
    this.used = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
