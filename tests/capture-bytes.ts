// Test helpers: build capture files byte by byte, independently of src/capture's writer,
// so a reader bug and a writer bug cannot cancel out.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const dir = mkdtempSync(join(tmpdir(), "vnic-capture-test-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
let n = 0;
/** Writes bytes to a fresh temp file and returns its path. */
export function tmpFile(bytes: Uint8Array | number[], name = "f"): string {
  const p = join(dir, `${n++}-${name}`);
  writeFileSync(p, Uint8Array.from(bytes as ArrayLike<number>));
  return p;
}
export const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

function u16(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(2);
  le ? b.writeUInt16LE(v) : b.writeUInt16BE(v);
  return b;
}
function u32(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(4);
  le ? b.writeUInt32LE(v >>> 0) : b.writeUInt32BE(v >>> 0);
  return b;
}
const pad4 = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);

export interface PcapOpts { le?: boolean; nano?: boolean; snap?: number; linkType?: number; major?: number }
export function pcapHeader(o: PcapOpts = {}): Buffer {
  const le = o.le ?? true;
  return Buffer.concat([
    u32(o.nano ? 0xa1b23c4d : 0xa1b2c3d4, le), u16(o.major ?? 2, le), u16(4, le),
    u32(0, le), u32(0, le), u32(o.snap ?? 65535, le), u32(o.linkType ?? 1, le),
  ]);
}
export function pcapRecord(data: Buffer, o: { le?: boolean; sec?: number; frac?: number; incl?: number; orig?: number } = {}): Buffer {
  const le = o.le ?? true;
  return Buffer.concat([u32(o.sec ?? 0, le), u32(o.frac ?? 0, le), u32(o.incl ?? data.length, le), u32(o.orig ?? data.length, le), data]);
}
/** `count` frames of `size` bytes, each filled with its index. */
export function frames(count: number, size: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.alloc(size, i & 0xff));
}

// pcapng blocks (draft-ietf-opsawg-pcapng §3.1): type, total length, body, total length.
export function block(type: number, body: Buffer, le = true, lenOverride?: number, trailerOverride?: number): Buffer {
  const b = pad4(body);
  const len = 12 + b.length;
  return Buffer.concat([u32(type, le), u32(lenOverride ?? len, le), b, u32(trailerOverride ?? lenOverride ?? len, le)]);
}
export function option(code: number, value: Buffer, le = true): Buffer {
  return pad4(Buffer.concat([u16(code, le), u16(value.length, le), value]));
}
export const endOfOpt = (le = true) => Buffer.concat([u16(0, le), u16(0, le)]);
export function shb(le = true, major = 1): Buffer {
  return block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d, le), u16(major, le), u16(0, le), Buffer.alloc(8, 0xff)]), le);
}
export function idb(linkType: number, snap: number, le = true, opts: Buffer[] = []): Buffer {
  const o = opts.length ? Buffer.concat([...opts, endOfOpt(le)]) : Buffer.alloc(0);
  return block(1, Buffer.concat([u16(linkType, le), u16(0, le), u32(snap, le), o]), le);
}
export function epb(iface: number, ts: bigint, data: Buffer, le = true, o: { incl?: number; orig?: number } = {}): Buffer {
  const body = Buffer.concat([u32(iface, le), u32(Number(ts >> 32n), le), u32(Number(ts & 0xffffffffn), le), u32(o.incl ?? data.length, le), u32(o.orig ?? data.length, le), data]);
  return block(6, body, le);
}
export function opb(iface: number, ts: bigint, data: Buffer, le = true): Buffer {
  const body = Buffer.concat([u16(iface, le), u16(0, le), u32(Number(ts >> 32n), le), u32(Number(ts & 0xffffffffn), le), u32(data.length, le), u32(data.length, le), data]);
  return block(2, body, le);
}
export function spb(orig: number, data: Buffer, le = true): Buffer {
  return block(3, Buffer.concat([u32(orig, le), data]), le);
}
export const tsresol = (v: number, le = true) => option(9, Buffer.from([v]), le);
export function tsoffset(sec: bigint, le = true): Buffer {
  const v = Buffer.alloc(8);
  le ? v.writeBigInt64LE(sec) : v.writeBigInt64BE(sec);
  return option(14, v, le);
}
