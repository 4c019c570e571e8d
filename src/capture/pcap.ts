// Classic pcap (pcap-savefile(5); draft-ietf-opsawg-pcap): a 24-byte file header, then records
// of a 16-byte header [ts_sec, ts_usec|ts_nsec, incl_len, orig_len] and incl_len bytes.
// Both byte orders; microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d) magic.

import { CaptureError, CaptureFrame, CaptureInfo, FrameSource, MAX_RECORD } from "./types.js";
import { FileWindow } from "./window.js";
import { reasons } from "./reasons.js";

export { MAX_RECORD } from "./types.js";
export { PcapWriter, type PcapWriterOptions } from "./writer.js";

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const GLOBAL_HEADER = 24;
export const RECORD_HEADER = 16;

// File header fields (byte offsets).
const F_MAGIC = 0;
const F_VERSION_MAJOR = 4;
const F_VERSION_MINOR = 6;
const F_SNAPLEN = 16;
const F_LINKTYPE = 20;
// Record header fields.
const R_TS_SEC = 0;
const R_TS_FRAC = 4;
const R_INCL_LEN = 8;
const R_ORIG_LEN = 12;

/** LinkType field: low 16 bits the link type; bit 26 says the top 4 bits give the FCS length in 16-bit words (libpcap's LT_FCS_*). */
const LT_FCS_PRESENT = 0x04000000;

export interface PcapHeader {
  littleEndian: boolean;
  nanosecond: boolean;
  snapLen: number;
  linkType: number;
  fcsBytes?: number;
}

/** True when the first four bytes are a classic pcap magic in either byte order. */
export function isPcapMagic(b: Uint8Array): boolean {
  const v = Buffer.from(b.buffer, b.byteOffset, 4);
  const le = v.readUInt32LE(0);
  const be = v.readUInt32BE(0);
  return le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS || be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS;
}

/** Parses the file header from `have` bytes at the start of `b` (which must hold min(have, 24) bytes). */
export function parsePcapHeader(file: string, b: Buffer, have: number): PcapHeader {
  if (have === 0) throw new CaptureError(file, 0, reasons.empty());
  if (have < 4) throw new CaptureError(file, 0, reasons.globalHeaderShort(have));
  const le = b.readUInt32LE(F_MAGIC);
  const be = b.readUInt32BE(F_MAGIC);
  const littleEndian = le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS;
  if (!littleEndian && be !== PCAP_MAGIC_US && be !== PCAP_MAGIC_NS) throw new CaptureError(file, 0, reasons.badMagic(be));
  if (have < GLOBAL_HEADER) throw new CaptureError(file, 0, reasons.globalHeaderShort(have));
  const u16 = (o: number) => (littleEndian ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number) => (littleEndian ? b.readUInt32LE(o) : b.readUInt32BE(o));
  if (u16(F_VERSION_MAJOR) !== 2) throw new CaptureError(file, 0, reasons.badVersion(u16(F_VERSION_MAJOR), u16(F_VERSION_MINOR)));
  const lt = u32(F_LINKTYPE);
  const h: PcapHeader = {
    littleEndian,
    nanosecond: (littleEndian ? le : be) === PCAP_MAGIC_NS,
    snapLen: u32(F_SNAPLEN),
    linkType: lt & 0xffff,
  };
  if (lt & LT_FCS_PRESENT) h.fcsBytes = (lt >>> 28) * 2;
  return h;
}

/**
 * Checks incl_len before anything is read or allocated for the record; returns an error reason
 * or null. A record longer than the file's snap length is read, as libpcap and tshark read it
 * (writers that merge or rewrite captures leave the old snap length behind); the bound is
 * MAX_RECORD, libpcap's own.
 */
export function checkRecordLength(incl: number, _snapLen: number): string | null {
  if (incl >= 0x80000000) return reasons.lengthTopBit(incl);
  if (incl > MAX_RECORD) return reasons.lengthOverMax(incl);
  return null;
}

/** Reads classic pcap through a fixed window; see FrameSource. */
export class PcapSource implements FrameSource {
  readonly info: CaptureInfo;
  private readonly le: boolean;
  private offset = GLOBAL_HEADER;

  constructor(private readonly win: FileWindow) {
    const have = Math.min(GLOBAL_HEADER, win.size);
    const p = have > 0 ? win.at(0, have) : 0;
    const h = parsePcapHeader(win.file, win.buf.subarray(p), have);
    this.le = h.littleEndian;
    this.info = { format: "pcap", linkType: h.linkType, nanosecond: h.nanosecond, snapLen: h.snapLen, frames: 0, bytes: 0 };
    if (h.fcsBytes !== undefined) this.info.fcsBytes = h.fcsBytes;
  }

  next(): CaptureFrame | null {
    const win = this.win;
    const off = this.offset;
    const left = win.remaining(off);
    if (left === 0) return null;
    if (left < RECORD_HEADER) throw new CaptureError(win.file, off, reasons.recordHeaderShort(left), true);
    let p = win.at(off, RECORD_HEADER);
    const b = win.buf;
    const le = this.le;
    const incl = le ? b.readUInt32LE(p + R_INCL_LEN) : b.readUInt32BE(p + R_INCL_LEN);
    const bad = checkRecordLength(incl, this.info.snapLen);
    if (bad) throw new CaptureError(win.file, off, bad);
    if (left < RECORD_HEADER + incl) throw new CaptureError(win.file, off, reasons.recordShort(incl, RECORD_HEADER + incl - left), true);
    p = win.at(off, RECORD_HEADER + incl);
    const sec = le ? b.readUInt32LE(p + R_TS_SEC) : b.readUInt32BE(p + R_TS_SEC);
    const frac = le ? b.readUInt32LE(p + R_TS_FRAC) : b.readUInt32BE(p + R_TS_FRAC);
    const origLen = le ? b.readUInt32LE(p + R_ORIG_LEN) : b.readUInt32BE(p + R_ORIG_LEN);
    this.offset = off + RECORD_HEADER + incl;
    this.info.frames++;
    this.info.bytes += incl;
    return {
      data: b.subarray(p + RECORD_HEADER, p + RECORD_HEADER + incl),
      tsNs: BigInt(sec) * 1_000_000_000n + BigInt(this.info.nanosecond ? frac : frac * 1000),
      origLen,
      offset: off,
    };
  }

  close(): void {
    this.win.close();
  }
}

/** Reads a whole classic pcap file, calling `onFrame` for each record in order. */
export function readPcapFile(file: string, onFrame: (f: CaptureFrame) => void): CaptureInfo {
  const win = new FileWindow(file);
  try {
    const src = new PcapSource(win);
    for (let f = src.next(); f !== null; f = src.next()) onFrame(f);
    return src.info;
  } finally {
    win.close();
  }
}
