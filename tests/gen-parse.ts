// An independent reading of generated frames for the tests: its own checksum (RFC 1071, done
// the slow obvious way) and its own header walk, sharing nothing with src/capture.

export function onesSum(bytes: number[]): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i] << 8) + (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}
const be16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const be32 = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const lenWords = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

export interface Parsed {
  vlan?: number;
  v6: boolean;
  ipHeaderOk?: boolean;
  ipId?: number;
  df?: boolean;
  ipLenField: number;
  hbhJumbo?: number;
  proto: number;
  l4: number; // offset of the UDP/TCP header
  l4Len: number; // from the frame's end
  /** Ones'-complement sum of the pseudo-header (with the 32-bit length) alone. */
  pseudo: number;
  /** Ones'-complement sum of pseudo-header + whole L4 segment: 0xffff when the checksum is right. */
  full: number;
  checksumField: number;
  tcp?: { seq: number; flags: number; dataOff: number; tsval: number; tsecr: number; optKind: number };
}

export function parseFrame(b: Uint8Array): Parsed {
  let o = 12;
  let vlan: number | undefined;
  if (be16(b, o) === 0x8100) {
    vlan = be16(b, o + 2) & 0xfff;
    o += 4;
  }
  const et = be16(b, o);
  o += 2;
  const p: Partial<Parsed> = { vlan, v6: et === 0x86dd };
  let src: number[], dst: number[];
  if (et === 0x0800) {
    const hdr = Array.from(b.subarray(o, o + 20));
    p.ipHeaderOk = onesSum(hdr) === 0xffff;
    p.ipId = be16(b, o + 4);
    p.df = (b[o + 6] & 0x40) !== 0;
    p.ipLenField = be16(b, o + 2);
    p.proto = b[o + 9];
    src = hdr.slice(12, 16);
    dst = hdr.slice(16, 20);
    o += 20;
  } else if (et === 0x86dd) {
    p.ipLenField = be16(b, o + 4);
    p.proto = b[o + 6];
    src = Array.from(b.subarray(o + 8, o + 24));
    dst = Array.from(b.subarray(o + 24, o + 40));
    o += 40;
    if (p.proto === 0) {
      if (b[o + 2] !== 0xc2 || b[o + 3] !== 4) throw new Error("hop-by-hop header without a jumbo option");
      p.hbhJumbo = be32(b, o + 4);
      p.proto = b[o];
      o += 8;
    }
  } else throw new Error(`ethertype 0x${et.toString(16)}`);
  p.l4 = o;
  p.l4Len = b.length - o;
  p.pseudo = onesSum([...src, ...dst, 0, p.proto!, ...lenWords(p.l4Len)]);
  p.full = onesSum([...src, ...dst, 0, p.proto!, ...lenWords(p.l4Len), ...b.subarray(o)]);
  p.checksumField = be16(b, o + (p.proto === 6 ? 16 : 6));
  if (p.proto === 6) {
    p.tcp = { seq: be32(b, o + 4), flags: b[o + 13], dataOff: (b[o + 12] >> 4) * 4, tsval: be32(b, o + 24), tsecr: be32(b, o + 28), optKind: b[o + 22] };
  }
  return p as Parsed;
}
