// Test helpers written independently of src/reference: a frame builder from a plain spec, a
// plain Internet checksum (step-by-step end-around carry, RFC 1071 §2), and checksum verifiers
// that assemble the pseudo-header as literal bytes (RFC 9293 §3.1, RFC 8200 §8.1).

export interface FrameSpec {
  vlanTags: number; // 0..2
  ipVersion: 4 | 6;
  /** IPv4 option bytes (a multiple of 4, ≤ 40). */
  ipv4Options: number;
  /** IPv6: a hop-by-hop header of PadN (8 bytes) after the fixed header. */
  ipv6Hbh: boolean;
  /** IPv6: a destination-options header of PadN (8 or 16 bytes). */
  ipv6DestOpts: 0 | 8 | 16;
  /** IPv6 BIG TCP: an RFC 2675 jumbo hop-by-hop header instead of ipv6Hbh (only when the
   *  packet needs it); else a big packet has payload length 0 with no option. */
  jumbo: boolean;
  tcpOptions: Uint8Array; // length a multiple of 4, ≤ 40
  flags: number;
  seq: number;
  ack: number;
  ipId: number;
  payloadLen: number;
  payloadSeed: number;
  /** Arbitrary checksum field contents: the reference must never trust them. */
  junkChecksum: number;
}

const put16 = (b: Uint8Array, o: number, v: number) => {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
};
const put32 = (b: Uint8Array, o: number, v: number) => {
  put16(b, o, Math.floor(v / 0x10000) & 0xffff);
  put16(b, o + 2, v & 0xffff);
};
export const read16 = (b: Uint8Array, o: number) => b[o] * 256 + b[o + 1];
export const read32 = (b: Uint8Array, o: number) => read16(b, o) * 0x10000 + read16(b, o + 2);

/** Payload byte j: position-dependent, so a misplaced slice shows. */
export const payloadByte = (j: number, seed: number) => (j * 31 + (j >>> 8) * 7 + (j >>> 16) * 3 + seed) & 0xff;

export interface Built {
  frame: Uint8Array;
  l3: number;
  /** IP header length in the frame, and in segments (a jumbo HBH is not carried over). */
  ipHeaderLen: number;
  segIpHeaderLen: number;
  tcpHeaderLen: number;
  big: boolean;
}

export function buildFrame(s: FrameSpec): Built {
  const l3 = 14 + 4 * s.vlanTags;
  const tcpHeaderLen = 20 + s.tcpOptions.length;
  let ipHeaderLen: number;
  let segIpHeaderLen: number;
  const big4 = s.ipVersion === 4 && 20 + s.ipv4Options + tcpHeaderLen + s.payloadLen > 0xffff;
  const extLen = s.ipVersion === 6 ? (s.ipv6Hbh ? 8 : 0) + s.ipv6DestOpts : 0;
  const big6 = s.ipVersion === 6 && extLen + tcpHeaderLen + s.payloadLen > 0xffff;
  const jumbo = big6 && s.jumbo;
  if (s.ipVersion === 4) ipHeaderLen = segIpHeaderLen = 20 + s.ipv4Options;
  else {
    segIpHeaderLen = 40 + (jumbo ? 0 : s.ipv6Hbh ? 8 : 0) + s.ipv6DestOpts;
    ipHeaderLen = segIpHeaderLen + (jumbo ? 8 : 0);
  }
  const frame = new Uint8Array(l3 + ipHeaderLen + tcpHeaderLen + s.payloadLen);
  // Ethernet: dst, src, then tags.
  for (let i = 0; i < 12; i++) frame[i] = 0x10 + i;
  let typeAt = 12;
  for (let t = 0; t < s.vlanTags; t++) {
    put16(frame, typeAt, t === 0 && s.vlanTags === 2 ? 0x88a8 : 0x8100);
    put16(frame, typeAt + 2, 0x0100 + t * 17); // PCP/DEI/VID
    typeAt += 4;
  }
  put16(frame, typeAt, s.ipVersion === 4 ? 0x0800 : 0x86dd);
  const l4 = l3 + ipHeaderLen;
  if (s.ipVersion === 4) {
    frame[l3] = 0x40 | (ipHeaderLen / 4);
    frame[l3 + 1] = 0x02; // ECN ECT(0)... any TOS is copied
    put16(frame, l3 + 2, big4 ? 0 : ipHeaderLen + tcpHeaderLen + s.payloadLen);
    put16(frame, l3 + 4, s.ipId);
    put16(frame, l3 + 6, 0x4000); // DF
    frame[l3 + 8] = 64;
    frame[l3 + 9] = 6;
    put16(frame, l3 + 10, s.junkChecksum);
    for (let i = 0; i < 8; i++) frame[l3 + 12 + i] = [192, 0, 2, 1, 198, 51, 100, 7][i];
    for (let i = 20; i < ipHeaderLen; i++) frame[l3 + i] = 1; // NOP options (RFC 791)
  } else {
    put32(frame, l3, 0x60012345); // version 6, traffic class, flow label
    const payloadLength = ipHeaderLen - 40 + tcpHeaderLen + s.payloadLen;
    put16(frame, l3 + 4, big6 ? 0 : payloadLength);
    frame[l3 + 7] = 63;
    for (let i = 0; i < 16; i++) frame[l3 + 8 + i] = i === 0 ? 0x20 : i === 1 ? 0x01 : 0xa0 + i;
    for (let i = 0; i < 16; i++) frame[l3 + 24 + i] = i === 0 ? 0x20 : i === 1 ? 0x01 : 0xb0 + i;
    const chain: Array<[number, Uint8Array]> = []; // [protocol number, header bytes]
    if (jumbo) {
      const h = new Uint8Array(8);
      h[2] = 0xc2;
      h[3] = 4;
      put32(h, 4, payloadLength);
      chain.push([0, h]);
    } else if (s.ipv6Hbh) chain.push([0, padNHeader(8)]);
    if (s.ipv6DestOpts) chain.push([60, padNHeader(s.ipv6DestOpts)]);
    let nhAt = l3 + 6;
    let at = l3 + 40;
    for (const [proto, h] of chain) {
      frame[nhAt] = proto;
      frame.set(h, at);
      nhAt = at;
      at += h.length;
    }
    frame[nhAt] = 6;
  }
  put16(frame, l4, 40000);
  put16(frame, l4 + 2, 443);
  put32(frame, l4 + 4, s.seq);
  put32(frame, l4 + 8, s.ack);
  frame[l4 + 12] = (tcpHeaderLen / 4) << 4;
  frame[l4 + 13] = s.flags;
  put16(frame, l4 + 14, 0xfaf0);
  put16(frame, l4 + 16, s.junkChecksum ^ 0x5a5a);
  put16(frame, l4 + 18, 0);
  frame.set(s.tcpOptions, l4 + 20);
  const payload = l4 + tcpHeaderLen;
  for (let j = 0; j < s.payloadLen; j++) frame[payload + j] = payloadByte(j, s.payloadSeed);
  return { frame, l3, ipHeaderLen, segIpHeaderLen, tcpHeaderLen, big: big4 || big6 };
}

/** An extension header of `len` bytes holding one PadN option (RFC 8200 §4.2). */
function padNHeader(len: number): Uint8Array {
  const h = new Uint8Array(len);
  h[1] = len / 8 - 1;
  h[2] = 1; // PadN
  h[3] = len - 4;
  return h;
}

/** Ones'-complement sum, carried back in after every addition (RFC 1071 §2 "end around carry"). */
export function plainSum(bytes: ArrayLike<number>, initial = 0): number {
  let sum = initial;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += bytes[i] * 256 + (i + 1 < bytes.length ? bytes[i + 1] : 0);
    if (sum > 0xffff) sum -= 0xffff;
  }
  return sum;
}

/** IPv4 header verifies: its words, checksum included, sum to 0xffff. */
export function ipv4HeaderVerifies(seg: Uint8Array, l3: number): boolean {
  const ihl = (seg[l3] & 15) * 4;
  return plainSum(seg.subarray(l3, l3 + ihl)) === 0xffff;
}

/** The TCP pseudo-header as literal bytes, from the segment's own IP header (IPv4: RFC 9293
 *  §3.1; IPv6: RFC 8200 §8.1). */
export function pseudoHeaderBytes(seg: Uint8Array, l3: number, l4: number): number[] {
  const tcpLen = seg.length - l4;
  if (seg[l3] >> 4 === 4) return [...seg.subarray(l3 + 12, l3 + 20), 0, 6, tcpLen >> 8, tcpLen & 0xff];
  return [...seg.subarray(l3 + 8, l3 + 40), 0, 0, tcpLen >> 8, tcpLen & 0xff, 0, 0, 0, 6];
}

/** TCP checksum verifies: pseudo-header + segment, checksum included, sum to 0xffff. */
export function tcpVerifies(seg: Uint8Array, l3: number, l4: number): boolean {
  // The pseudo-header has an even length, so summing the segment on from its sum is the sum
  // of the concatenation.
  return plainSum(seg.subarray(l4), plainSum(pseudoHeaderBytes(seg, l3, l4))) === 0xffff;
}
