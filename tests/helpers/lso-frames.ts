// Test support for the LSO tests: random-but-valid large-send frames described by a spec
// (so a property test shrinks to a readable case), a plain TCP-frame filter for captures, and
// the descriptor a Linux guest with TSO would post for a frame (what vnet-header.ts does).

/** Everything a generated large send is made of. */
export interface LsoFrameSpec {
  vlanTags: number; // 0..2 (first 802.1ad when two, as QinQ)
  ip: 4 | 6;
  ipv4OptionWords: number; // 0..10
  /** IPv6 extension headers before TCP: a destination-options header of (n+1)·8 bytes, or none. */
  ipv6DestOpts: number; // -1: none, else n (0..2)
  /** IPv6 over 64 KiB: carry the RFC 2675 hop-by-hop jumbo option (else payload length 0). */
  jumboHbh: boolean;
  tcpOptionWords: number; // 0..10
  flags: number; // the TCP flags byte
  seq: number; // u32
  id: number; // u16
  ipv4Fragment: boolean; // MF set
  payloadLen: number;
  seed: number; // payload and address bytes
}

export interface BuiltFrame {
  frame: Uint8Array;
  l2: number; // Ethernet + tags
  l4: number; // TCP header offset in the frame (jumbo HBH included)
  headers: number; // bytes through the TCP options (virtio hdr_len)
  ipHeaderNoJumbo: number; // IP header bytes the segments carry
  tcpHeader: number;
}

/** xorshift32: a fast deterministic byte stream for payloads and addresses. */
export function fillRandom(b: Uint8Array, seed: number, from = 0, to = b.length): void {
  let x = (seed | 0) || 0x9e3779b9;
  let i = from;
  for (; i + 4 <= to; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x;
    b[i + 1] = x >>> 8;
    b[i + 2] = x >>> 16;
    b[i + 3] = x >>> 24;
  }
  for (; i < to; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x;
  }
}

const put16 = (b: Uint8Array, o: number, v: number) => {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
};
const put32 = (b: Uint8Array, o: number, v: number) => {
  put16(b, o, (v >>> 16) & 0xffff);
  put16(b, o + 2, v & 0xffff);
};

/** Builds the frame; the TCP checksum field holds junk (the device must never trust it) and the
 *  IPv4 header checksum is left 0 (segments recompute it). */
export function buildLsoFrame(s: LsoFrameSpec): BuiltFrame {
  const l2 = 14 + 4 * s.vlanTags;
  const big = s.payloadLen > 0; // decided below per IP version
  void big;
  const tcpHeader = 20 + 4 * s.tcpOptionWords;
  let ipHeader: number;
  let jumbo = false;
  if (s.ip === 4) ipHeader = 20 + 4 * s.ipv4OptionWords;
  else {
    ipHeader = 40 + (s.ipv6DestOpts >= 0 ? (s.ipv6DestOpts + 1) * 8 : 0);
    const ipPayload = ipHeader - 40 + tcpHeader + s.payloadLen;
    jumbo = s.jumboHbh && ipPayload + 8 > 0xffff;
    if (jumbo) ipHeader += 8;
  }
  const l3 = l2;
  const l4 = l3 + ipHeader;
  const headers = l4 + tcpHeader;
  const frame = new Uint8Array(headers + s.payloadLen);
  fillRandom(frame, s.seed ^ 0x5a5a5a5a, 0, 12); // MACs
  fillRandom(frame, s.seed, headers); // payload
  let at = 12;
  for (let t = 0; t < s.vlanTags; t++) {
    put16(frame, at, s.vlanTags === 2 && t === 0 ? 0x88a8 : 0x8100);
    put16(frame, at + 2, (s.seed >>> (4 * t)) & 0x0fff);
    at += 4;
  }
  put16(frame, at, s.ip === 4 ? 0x0800 : 0x86dd);
  const ip = l3;
  if (s.ip === 4) {
    frame[ip] = 0x40 | (ipHeader / 4);
    frame[ip + 1] = 0x02; // ECT(0)-ish DSCP/ECN byte, copied unchanged
    const total = ipHeader + tcpHeader + s.payloadLen;
    put16(frame, ip + 2, total > 0xffff ? 0 : total); // BIG TCP IPv4: total length 0
    put16(frame, ip + 4, s.id);
    put16(frame, ip + 6, s.ipv4Fragment ? 0x2000 : 0x4000); // MF, or DF
    frame[ip + 8] = 64;
    frame[ip + 9] = 6;
    fillRandom(frame, s.seed ^ 0x1234, ip + 12, ip + 20);
    for (let o = ip + 20; o < l4; o++) frame[o] = 0x01; // NOP options, then a random-ish one
    if (ipHeader > 20) {
      frame[ip + 20] = 0x94; // Router Alert (RFC 2113), 4 bytes
      frame[ip + 21] = 4;
    }
  } else {
    frame[ip] = 0x60;
    frame[ip + 1] = 0x0a;
    frame[ip + 3] = 0x5e;
    const payloadLen = ipHeader - 40 + tcpHeader + s.payloadLen;
    put16(frame, ip + 4, jumbo || payloadLen > 0xffff ? 0 : payloadLen);
    frame[ip + 7] = 64;
    fillRandom(frame, s.seed ^ 0x4321, ip + 8, ip + 40);
    let next = ip + 6;
    let h = ip + 40;
    if (jumbo) {
      frame[next] = 0; // hop-by-hop
      next = h;
      frame[h + 1] = 0;
      frame[h + 2] = 0xc2;
      frame[h + 3] = 4;
      put32(frame, h + 4, payloadLen - 8 + 8); // the jumbo length covers everything after the fixed header
      h += 8;
    }
    if (s.ipv6DestOpts >= 0) {
      frame[next] = 60;
      next = h;
      frame[h + 1] = s.ipv6DestOpts;
      const len = (s.ipv6DestOpts + 1) * 8;
      frame[h + 2] = 1; // PadN filling the header
      frame[h + 3] = len - 4;
      h += len;
    }
    frame[next] = 6;
  }
  const tcp = l4;
  put16(frame, tcp, 0xc000 | (s.seed & 0x3fff));
  put16(frame, tcp + 2, 5201);
  put32(frame, tcp + 4, s.seq);
  put32(frame, tcp + 8, (s.seed * 2654435761) >>> 0);
  frame[tcp + 12] = (tcpHeader / 4) << 4;
  frame[tcp + 13] = s.flags;
  put16(frame, tcp + 14, 0x1f5);
  put16(frame, tcp + 16, 0xdead); // junk: never trusted
  put16(frame, tcp + 18, s.flags & 0x20 ? 7 : 0);
  for (let o = tcp + 20; o < headers; o++) frame[o] = 0x01;
  if (tcpHeader >= 32) {
    // a timestamp option, as Linux sends: NOP NOP TS(10)
    frame[tcp + 22] = 8;
    frame[tcp + 23] = 10;
    fillRandom(frame, s.seed ^ 0x7777, tcp + 24, tcp + 32);
  }
  return { frame, l2, l4, headers, ipHeaderNoJumbo: ipHeader - (jumbo ? 8 : 0), tcpHeader };
}

// ---- captures ----

/** True for an Ethernet frame carrying TCP over IPv4 or IPv6 (tags and extension headers skipped). */
export function isTcpFrame(f: Uint8Array): boolean {
  return l4ProtoOf(f) === 6;
}

/** A UDP frame (USO's segments, VXLAN/Geneve outer frames). */
export function isUdpFrame(f: Uint8Array): boolean {
  return l4ProtoOf(f) === 17;
}

/** The IP protocol of the frame's upper layer (after VLAN tags and IPv6 extension headers), or -1. */
export function l4ProtoOf(f: Uint8Array): number {
  let at = 12;
  let type = (f[at] << 8) | f[at + 1];
  while ((type === 0x8100 || type === 0x88a8) && at + 6 <= f.length) {
    at += 4;
    type = (f[at] << 8) | f[at + 1];
  }
  const ip = at + 2;
  if (type === 0x0800) return f.length > ip + 9 ? f[ip + 9] : -1;
  if (type !== 0x86dd || f.length < ip + 40) return -1;
  let next = f[ip + 6];
  let h = ip + 40;
  while ((next === 0 || next === 43 || next === 60) && h + 2 <= f.length) {
    next = f[h];
    h += (f[h + 1] + 1) * 8;
  }
  return next;
}

/** Where two frame lists first differ (count, a length, or a byte), or null when they are equal. */
export function firstDifference(a: Uint8Array[], b: Uint8Array[]): string | null {
  if (a.length !== b.length) return `${a.length} frames vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    if (a[i].length !== b[i].length) return `frame ${i}: length ${a[i].length} vs ${b[i].length}`;
    for (let j = 0; j < a[i].length; j++) if (a[i][j] !== b[i][j]) return `frame ${i} byte ${j}: 0x${a[i][j].toString(16)} vs 0x${b[i][j].toString(16)}`;
  }
  return null;
}
