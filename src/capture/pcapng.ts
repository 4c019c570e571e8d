// pcapng (draft-ietf-opsawg-pcapng): a file is one or more sections, each a Section Header
// Block (SHB) and the blocks after it. Every block is [type u32, total length u32, body,
// total length u32], total length a multiple of 4. We read SHB, Interface Description (IDB),
// Enhanced (EPB), Simple (SPB) and the obsolete Packet Block (OPB) and skip all others.
// Interface ids count from 0 in each section; each section declares its own byte order.

import { CaptureError, CaptureFrame, CaptureInfo, FrameSource, MAX_RECORD } from "./types.js";
import { FileWindow } from "./window.js";
import { reasons } from "./reasons.js";
import { checkRecordLength } from "./pcap.js";

export const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 0x00000001;
const BT_OPB = 0x00000002; // obsolete Packet Block (§ Appendix, "Packet Block")
const BT_SPB = 0x00000003;
const BT_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

// Offsets inside a block, from its first byte.
const B_TYPE = 0;
const B_LEN = 4;
const MIN_BLOCK = 12;
// SHB body: byte-order magic, major u16, minor u16, section length i64.
const SHB_BOM = 8;
const SHB_MAJOR = 12;
const SHB_MINOR = 14;
const SHB_FIXED = 28;
// IDB body: link type u16, reserved u16, snap length u32, options.
const IDB_LINKTYPE = 8;
const IDB_SNAPLEN = 12;
const IDB_OPTIONS = 16;
const IDB_FIXED = 20;
// EPB body: interface id u32, ts high u32, ts low u32, captured u32, original u32, data.
// OPB body: interface id u16, drops u16, then as EPB.
const PB_IFACE = 8;
const PB_TS_HIGH = 12;
const PB_TS_LOW = 16;
const PB_CAPLEN = 20;
const PB_ORIGLEN = 24;
const PB_DATA = 28;
const PB_FIXED = 32;
// SPB body: original length u32, data.
const SPB_ORIGLEN = 8;
const SPB_DATA = 12;
const SPB_FIXED = 16;
// IDB options we use.
const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

/** Largest block we read into memory: a maximal frame plus generous room for options. */
export const MAX_BLOCK = MAX_RECORD + 65536;

interface Iface {
  linkType: number;
  /** Offset of the interface's description block. */
  linkTypeAt: number;
  snapLen: number;
  /** Timestamp units → ns: ns = ts * mul / div (both powers of 10 or of 2 and 10). */
  mul: bigint;
  div: bigint;
  offsetNs: bigint;
}

export class PcapngSource implements FrameSource {
  readonly info: CaptureInfo;
  private le = true;
  private offset = 0;
  private ifaces: Iface[] = [];
  private lastTs = 0n;

  constructor(private readonly win: FileWindow) {
    this.info = { format: "pcapng", linkType: -1, nanosecond: false, snapLen: 0, frames: 0, bytes: 0, sections: 0 };
    // Read the metadata ahead of the first packet so linkType/snapLen are known on open.
    while (this.offset < win.size && !this.atPacketBlock()) this.step();
  }

  next(): CaptureFrame | null {
    while (this.offset < this.win.size) {
      const f = this.step();
      if (f) return f;
    }
    return null;
  }

  close(): void {
    this.win.close();
  }

  declaredLinkTypes(): number[] {
    return this.ifaces.map((i) => i.linkType);
  }

  private u16(p: number): number {
    return this.le ? this.win.buf.readUInt16LE(p) : this.win.buf.readUInt16BE(p);
  }
  private u32(p: number): number {
    return this.le ? this.win.buf.readUInt32LE(p) : this.win.buf.readUInt32BE(p);
  }

  private atPacketBlock(): boolean {
    const left = this.win.remaining(this.offset);
    if (left < 8) return false;
    const t = this.u32(this.win.at(this.offset, 8));
    return t === BT_EPB || t === BT_SPB || t === BT_OPB;
  }

  /** Handles the block at `offset` and moves past it; returns a frame for packet blocks. */
  private step(): CaptureFrame | null {
    const off = this.offset;
    const { type, len, p } = this.block(off);
    this.offset = off + len;
    switch (type) {
      case BT_SHB: this.section(off, p, len); return null;
      case BT_IDB: this.iface(off, p, len); return null;
      case BT_EPB: return this.packet(off, p, len, this.u32(p + PB_IFACE));
      case BT_OPB: return this.packet(off, p, len, this.u16(p + PB_IFACE));
      case BT_SPB: return this.simple(off, p, len);
      default: return null; // NRB, ISB, DSB, custom...: not needed to transmit
    }
  }

  /** Validates the framing of the block at `off`; reads the whole block only if we use it (p < 0 otherwise). */
  private block(off: number): { type: number; len: number; p: number } {
    const win = this.win;
    const file = win.file;
    const left = win.remaining(off);
    if (left < MIN_BLOCK) throw new CaptureError(file, off, reasons.blockHeaderShort(left), true);
    let p = win.at(off, MIN_BLOCK);
    const type = this.u32(p + B_TYPE);
    if (type === BT_SHB) this.byteOrder(off, p);
    else if (off === 0) throw new CaptureError(file, 0, reasons.badMagic(win.buf.readUInt32BE(p)));
    const len = this.u32(p + B_LEN);
    if (len < MIN_BLOCK) throw new CaptureError(file, off, reasons.blockLengthSmall(len));
    if (len % 4 !== 0) throw new CaptureError(file, off, reasons.blockLengthAlign(len));
    if (len > left) throw new CaptureError(file, off, reasons.blockPastEnd(len, len - left), true);
    const wanted = type === BT_SHB || type === BT_IDB || type === BT_EPB || type === BT_SPB || type === BT_OPB;
    if (wanted && len > MAX_BLOCK) throw new CaptureError(file, off, reasons.blockTooLong(type, len, MAX_BLOCK));
    p = wanted ? win.at(off, len) : -1;
    const trailer = this.u32(wanted ? p + len - 4 : win.at(off + len - 4, 4));
    if (trailer !== len) throw new CaptureError(file, off, reasons.blockTrailer(len, trailer));
    return { type, len, p };
  }

  /** The SHB's byte-order magic sets the byte order of its whole section. */
  private byteOrder(off: number, p: number): void {
    const bom = this.win.buf.readUInt32LE(p + SHB_BOM);
    if (bom === BYTE_ORDER_MAGIC) this.le = true;
    else if (this.win.buf.readUInt32BE(p + SHB_BOM) === BYTE_ORDER_MAGIC) this.le = false;
    else throw new CaptureError(this.win.file, off, reasons.badByteOrder(this.win.buf.readUInt32BE(p + SHB_BOM)));
  }

  private section(off: number, p: number, len: number): void {
    if (len < SHB_FIXED) throw new CaptureError(this.win.file, off, reasons.blockBodyShort("section header", len, SHB_FIXED));
    const major = this.u16(p + SHB_MAJOR);
    if (major !== 1) throw new CaptureError(this.win.file, off, reasons.badNgVersion(major, this.u16(p + SHB_MINOR)));
    this.ifaces = [];
    this.info.sections!++;
  }

  private iface(off: number, p: number, len: number): void {
    if (len < IDB_FIXED) throw new CaptureError(this.win.file, off, reasons.blockBodyShort("interface description", len, IDB_FIXED));
    const linkType = this.u16(p + IDB_LINKTYPE);
    const snapLen = this.u32(p + IDB_SNAPLEN);
    const info = this.info;
    // Interfaces may differ in link type (a merged capture): each packet carries its own, and
    // the replay refuses only what a packet actually uses (./replayable.ts).
    if (info.linkType < 0) {
      info.linkType = linkType;
      info.linkTypeAt = off;
      info.snapLen = snapLen;
    }
    const ifc: Iface = { linkType, linkTypeAt: off, snapLen, mul: 1000n, div: 1n, offsetNs: 0n }; // default 10^-6 s
    this.options(off, p + IDB_OPTIONS, p + len - 4, ifc);
    this.ifaces.push(ifc);
  }

  /**
   * Walks the IDB options [code u16, length u16, value padded to 4]. A malformed option list
   * ends the walk: options only refine timestamps, and the frames themselves are still sound.
   */
  private options(off: number, p: number, end: number, ifc: Iface): void {
    while (p + 4 <= end) {
      const code = this.u16(p);
      const olen = this.u16(p + 2);
      const v = p + 4;
      if (code === OPT_ENDOFOPT || v + olen > end) return;
      if (code === OPT_IF_TSRESOL && olen >= 1) this.tsresol(off, ifc, this.win.buf[v]);
      if (code === OPT_IF_TSOFFSET && olen >= 8) {
        const hi = BigInt.asIntN(32, BigInt(this.u32(this.le ? v + 4 : v)));
        const lo = BigInt(this.u32(this.le ? v : v + 4));
        ifc.offsetNs = ((hi << 32n) | lo) * 1_000_000_000n;
      }
      p = v + ((olen + 3) & ~3);
    }
  }

  /** if_tsresol: top bit clear → units of 10^-v s; set → units of 2^-(v & 0x7f) s. */
  private tsresol(off: number, ifc: Iface, v: number): void {
    const exp = v & 0x7f;
    if (v & 0x80) {
      ifc.mul = 1_000_000_000n;
      ifc.div = 1n << BigInt(exp);
      // 10^6 = 2^6 · 15625: units of 2^-7 s and finer are no whole number of microseconds, so
      // the output keeps nanoseconds (exact down to 2^-9 s; finer rounds down).
      if (exp > 6) this.info.nanosecond = true;
      return;
    }
    if (exp > 18) throw new CaptureError(this.win.file, off, reasons.badTsResol(v));
    ifc.mul = exp <= 9 ? 10n ** BigInt(9 - exp) : 1n;
    ifc.div = exp <= 9 ? 1n : 10n ** BigInt(exp - 9);
    if (exp > 6) this.info.nanosecond = true;
  }

  private lookup(off: number, id: number): Iface {
    const ifc = this.ifaces[id];
    if (!ifc) throw new CaptureError(this.win.file, off, reasons.noInterface(id, this.ifaces.length));
    return ifc;
  }

  /** EPB and OPB: same layout after the interface id. */
  private packet(off: number, p: number, len: number, id: number): CaptureFrame {
    const file = this.win.file;
    if (len < PB_FIXED) throw new CaptureError(file, off, reasons.blockBodyShort("packet", len, PB_FIXED));
    const ifc = this.lookup(off, id);
    const incl = this.u32(p + PB_CAPLEN);
    const bad = checkRecordLength(incl, ifc.snapLen);
    if (bad) throw new CaptureError(file, off, bad);
    if (incl > len - PB_FIXED) throw new CaptureError(file, off, reasons.capturedPastBlock(incl, len - PB_FIXED));
    const ts = (BigInt(this.u32(p + PB_TS_HIGH)) << 32n) | BigInt(this.u32(p + PB_TS_LOW));
    this.lastTs = (ts * ifc.mul) / ifc.div + ifc.offsetNs;
    return this.frame(off, p + PB_DATA, incl, this.u32(p + PB_ORIGLEN), ifc);
  }

  /** SPB: no interface id (always 0) and no timestamp; we repeat the previous frame's time. */
  private simple(off: number, p: number, len: number): CaptureFrame {
    if (len < SPB_FIXED) throw new CaptureError(this.win.file, off, reasons.blockBodyShort("simple packet", len, SPB_FIXED));
    const ifc = this.lookup(off, 0);
    const origLen = this.u32(p + SPB_ORIGLEN);
    // The captured length is implied: min(original length, snap length, room in the block).
    let incl = Math.min(origLen, len - SPB_FIXED, MAX_RECORD);
    if (ifc.snapLen > 0) incl = Math.min(incl, ifc.snapLen);
    return this.frame(off, p + SPB_DATA, incl, origLen, ifc);
  }

  private frame(off: number, p: number, incl: number, origLen: number, ifc: Iface): CaptureFrame {
    this.info.frames++;
    this.info.bytes += incl;
    return { data: this.win.buf.subarray(p, p + incl), tsNs: this.lastTs, origLen, offset: off, linkType: ifc.linkType, linkTypeAt: ifc.linkTypeAt };
  }
}
