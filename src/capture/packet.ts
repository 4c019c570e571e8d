// Header writers for the generator: Ethernet II with an optional 802.1Q tag, IPv4 (RFC 791),
// IPv6 (RFC 8200) with an optional hop-by-hop Jumbo Payload option (RFC 2675), UDP (RFC 768)
// and TCP with the timestamps option (RFC 9293, RFC 7323). Each returns the offset after it.

import { sum16, finish } from "./checksum.js";

export const ETH_HDR = 14;
export const VLAN_TAG = 4;
export const IPV4_HDR = 20;
export const IPV6_HDR = 40;
export const HBH_JUMBO = 8;
export const UDP_HDR = 8;
/** 20 bytes + NOP, NOP, timestamps (kind 8, length 10), as Linux sends on an established flow. */
export const TCP_HDR_TS = 32;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100;
export const PROTO_HOPOPT = 0;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;

export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

// Field offsets from the start of each header.
const IP4_VER_IHL = 0, IP4_TOTLEN = 2, IP4_ID = 4, IP4_FRAG = 6, IP4_TTL = 8, IP4_PROTO = 9, IP4_CSUM = 10;
export const IP4_SRC = 12, IP4_DST = 16;
const IP6_VER_TC_FL = 0, IP6_PLEN = 4, IP6_NEXT = 6, IP6_HOPS = 7;
export const IP6_SRC = 8, IP6_DST = 24;
const UDP_SPORT = 0, UDP_DPORT = 2, UDP_LEN = 4;
export const UDP_CSUM = 6;
const TCP_SPORT = 0, TCP_DPORT = 2, TCP_SEQ = 4, TCP_ACKNO = 8, TCP_OFF = 12, TCP_FLAGS = 13, TCP_WIN = 14, TCP_URG = 18, TCP_OPTS = 20;
export const TCP_CSUM = 16;
const IP4_DF = 0x4000;

export interface L2 {
  dst: Uint8Array;
  src: Uint8Array;
  /** 802.1Q VLAN id (0..4095), or undefined for an untagged frame. */
  vlan?: number;
}

export function writeEthernet(b: Uint8Array, o: number, l2: L2, ethertype: number): number {
  const v = new DataView(b.buffer, b.byteOffset);
  b.set(l2.dst, o);
  b.set(l2.src, o + 6);
  o += 12;
  if (l2.vlan !== undefined) {
    v.setUint16(o, ETHERTYPE_VLAN);
    v.setUint16(o + 2, l2.vlan & 0x0fff); // PCP 0, DEI 0
    o += VLAN_TAG;
  }
  v.setUint16(o, ethertype);
  return o + 2;
}

export interface Ipv4Fields {
  src: Uint8Array;
  dst: Uint8Array;
  id: number;
  proto: number;
  /** Total length; 0 for a BIG TCP super-packet over 65535 (Linux, since 6.3). */
  totalLen: number;
  dontFragment: boolean;
}

/** IPv4 header without options, its header checksum filled in. */
export function writeIpv4(b: Uint8Array, o: number, f: Ipv4Fields): number {
  const v = new DataView(b.buffer, b.byteOffset);
  b.fill(0, o, o + IPV4_HDR);
  b[o + IP4_VER_IHL] = 0x45;
  v.setUint16(o + IP4_TOTLEN, f.totalLen);
  v.setUint16(o + IP4_ID, f.id & 0xffff);
  v.setUint16(o + IP4_FRAG, f.dontFragment ? IP4_DF : 0);
  b[o + IP4_TTL] = 64;
  b[o + IP4_PROTO] = f.proto;
  b.set(f.src, o + IP4_SRC);
  b.set(f.dst, o + IP4_DST);
  v.setUint16(o + IP4_CSUM, finish(sum16(b, o, o + IPV4_HDR)));
  return o + IPV4_HDR;
}

export interface Ipv6Fields {
  src: Uint8Array;
  dst: Uint8Array;
  next: number;
  /** Payload length; 0 for a jumbogram or a BIG TCP super-packet. */
  payloadLen: number;
  flowLabel: number;
}

export function writeIpv6(b: Uint8Array, o: number, f: Ipv6Fields): number {
  const v = new DataView(b.buffer, b.byteOffset);
  v.setUint32(o + IP6_VER_TC_FL, (6 << 28) | (f.flowLabel & 0xfffff));
  v.setUint16(o + IP6_PLEN, f.payloadLen);
  b[o + IP6_NEXT] = f.next;
  b[o + IP6_HOPS] = 64;
  b.set(f.src, o + IP6_SRC);
  b.set(f.dst, o + IP6_DST);
  return o + IPV6_HDR;
}

/** Hop-by-hop header holding only the Jumbo Payload option (RFC 2675 §2): type 0xC2, length 4. */
export function writeHbhJumbo(b: Uint8Array, o: number, next: number, jumboLen: number): number {
  const v = new DataView(b.buffer, b.byteOffset);
  b[o] = next;
  b[o + 1] = 0; // header extension length: 8 bytes in all
  b[o + 2] = 0xc2;
  b[o + 3] = 4;
  v.setUint32(o + 4, jumboLen);
  return o + HBH_JUMBO;
}

/** UDP header with a zero checksum (the caller sums the datagram and fills UDP_CSUM). */
export function writeUdp(b: Uint8Array, o: number, sport: number, dport: number, len: number): number {
  const v = new DataView(b.buffer, b.byteOffset);
  v.setUint16(o + UDP_SPORT, sport);
  v.setUint16(o + UDP_DPORT, dport);
  v.setUint16(o + UDP_LEN, len);
  v.setUint16(o + UDP_CSUM, 0);
  return o + UDP_HDR;
}

export interface TcpFields {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  tsval: number;
  tsecr: number;
}

/** TCP header with NOP, NOP, timestamps and a zero checksum. */
export function writeTcp(b: Uint8Array, o: number, f: TcpFields): number {
  const v = new DataView(b.buffer, b.byteOffset);
  v.setUint16(o + TCP_SPORT, f.sport);
  v.setUint16(o + TCP_DPORT, f.dport);
  v.setUint32(o + TCP_SEQ, f.seq >>> 0);
  v.setUint32(o + TCP_ACKNO, f.ack >>> 0);
  b[o + TCP_OFF] = (TCP_HDR_TS / 4) << 4;
  b[o + TCP_FLAGS] = f.flags;
  v.setUint16(o + TCP_WIN, f.window);
  v.setUint16(o + TCP_CSUM, 0);
  v.setUint16(o + TCP_URG, 0);
  const t = o + TCP_OPTS;
  b[t] = 1; // NOP
  b[t + 1] = 1; // NOP
  b[t + 2] = 8; // timestamps
  b[t + 3] = 10;
  v.setUint32(t + 4, f.tsval >>> 0);
  v.setUint32(t + 8, f.tsecr >>> 0);
  return o + TCP_HDR_TS;
}
