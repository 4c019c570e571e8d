// Parsing the headers of one Ethernet frame: Ethernet with up to two VLAN tags (802.1Q /
// 802.1ad), IPv4 with options (RFC 791), IPv6 with extension headers (RFC 8200) including the
// hop-by-hop jumbo payload option (RFC 2675), TCP with options (RFC 9293), UDP (RFC 768).
// Plain and readable: named field offsets, one bounds check per header.

import { OffloadError } from "./errors.js";

// ---- Ethernet / VLAN ----
export const ETH_HEADER_LEN = 14;
export const ETH_TYPE = 12;
export const VLAN_TAG_LEN = 4;
export const MAX_VLAN_TAGS = 8; // Linux's VLAN_MAX_DEPTH: triple and deeper tags parse like two
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100; // 802.1Q
export const ETHERTYPE_QINQ = 0x88a8; // 802.1ad service tag

// ---- IPv4 (RFC 791 §3.1) ----
export const IPV4_VER_IHL = 0;
export const IPV4_TOTAL_LENGTH = 2;
export const IPV4_ID = 4;
export const IPV4_FLAGS_FRAGMENT = 6; // 3 flag bits (reserved, DF, MF) + 13-bit fragment offset
export const IPV4_PROTOCOL = 9;
export const IPV4_CHECKSUM = 10;
export const IPV4_MIN_HEADER_LEN = 20;
export const IPV4_MF = 0x2000;
export const IPV4_FRAGMENT_OFFSET_MASK = 0x1fff;

// ---- IPv6 (RFC 8200 §3, §4) ----
export const IPV6_PAYLOAD_LENGTH = 4;
export const IPV6_NEXT_HEADER = 6;
export const IPV6_HEADER_LEN = 40;
export const NH_HOP_BY_HOP = 0;
export const NH_ROUTING = 43;
export const NH_FRAGMENT = 44;
export const NH_AUTH = 51;
export const NH_DEST_OPTS = 60;
export const EXT_NEXT_HEADER = 0;
export const EXT_LENGTH = 1;
/** RFC 2675 §2: option type 0xC2, data length 4, a 32-bit length. */
export const JUMBO_OPTION_TYPE = 0xc2;
export const JUMBO_HBH_LEN = 8; // next header, hdr ext len 0, type, len 4, 4-byte length

// ---- TCP (RFC 9293 §3.1) and UDP (RFC 768) ----
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const TCP_SEQ = 4;
export const TCP_DATA_OFFSET = 12; // upper 4 bits: header length in 32-bit words
export const TCP_FLAGS = 13;
export const TCP_CHECKSUM = 16;
export const TCP_MIN_HEADER_LEN = 20;
export const UDP_LENGTH = 4;
export const UDP_CHECKSUM = 6;
export const UDP_HEADER_LEN = 8;
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

export const get16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
export const get32 = (b: Uint8Array, o: number): number => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
export function set16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
export function set32(b: Uint8Array, o: number, v: number): void {
  set16(b, o, (v >>> 16) & 0xffff);
  set16(b, o + 2, v & 0xffff);
}

/** A copy that owns its bytes. (Not `.slice()`: on a Node Buffer that returns a view.) */
export const copyOf = (b: Uint8Array): Uint8Array => new Uint8Array(b);

/** Where everything is in one frame. All offsets are from the start of the frame. */
export interface Layout {
  vlanTags: number;
  /** Offset of the IP header (after Ethernet and VLAN tags). */
  l3: number;
  ipVersion: 4 | 6;
  /** IPv4: IHL·4 including options. IPv6: 40 + all extension headers (a jumbo HBH included). */
  ipHeaderLen: number;
  /** IPv6 only: the hop-by-hop header that carries an RFC 2675 jumbo option, which every
   *  chunk and segment drops (it always sits right after the fixed header, RFC 8200 §4.1). */
  jumboHbh: boolean;
  /** IPv4 MF or fragment offset, or an IPv6 fragment header. */
  fragment: boolean;
  /** Upper-layer protocol (TCP 6, UDP 17, anything else). */
  l4Proto: number;
  l4: number;
  /** TCP: data offset·4 (options included); UDP: 8; other protocols: 0. */
  l4HeaderLen: number;
  payload: number;
  payloadLen: number;
  /** One past the last byte of the IP packet. Bytes after it (Ethernet padding) are not ours. */
  ipEnd: number;
  /** The IP length field was 0 (BIG TCP) and the length came from the frame or the jumbo option. */
  bigTcp: boolean;
}

function need(frame: Uint8Array, end: number, what: string): void {
  if (end > frame.length) throw new OffloadError("headersBeyondFrame", `${what} ends at byte ${end}, the frame has ${frame.length}`);
}

/** Skips Ethernet and up to two VLAN tags; returns the IP header offset and the EtherType. */
export function parseEthernet(frame: Uint8Array): { l3: number; etherType: number; vlanTags: number } {
  need(frame, ETH_HEADER_LEN, "Ethernet header");
  let typeAt = ETH_TYPE;
  let vlanTags = 0;
  while ((get16(frame, typeAt) === ETHERTYPE_VLAN || get16(frame, typeAt) === ETHERTYPE_QINQ) && vlanTags < MAX_VLAN_TAGS) {
    need(frame, typeAt + 2 + VLAN_TAG_LEN, "VLAN tag");
    typeAt += VLAN_TAG_LEN;
    vlanTags++;
  }
  return { l3: typeAt + 2, etherType: get16(frame, typeAt), vlanTags };
}

/** Parses the headers of an IPv4 or IPv6 frame. Throws OffloadError (notIp, headersBeyondFrame,
 *  lengthBeyondFrame, badIpHeader, badTcpHeader) when the frame cannot be understood. */
export function parseFrame(frame: Uint8Array): Layout {
  const { l3, etherType, vlanTags } = parseEthernet(frame);
  let ip: IpPart;
  if (etherType === ETHERTYPE_IPV4) ip = parseIpv4(frame, l3);
  else if (etherType === ETHERTYPE_IPV6) ip = parseIpv6(frame, l3);
  else throw new OffloadError("notIp", `EtherType 0x${etherType.toString(16).padStart(4, "0")}`);
  const l4 = l3 + ip.ipHeaderLen;
  const l4HeaderLen = parseL4HeaderLen(frame, ip.l4Proto, l4, ip.fragment);
  if (l4 + l4HeaderLen > ip.ipEnd) throw new OffloadError("headersBeyondFrame", `transport header ends at ${l4 + l4HeaderLen}, the IP packet at ${ip.ipEnd}`);
  const payload = l4 + l4HeaderLen;
  return { vlanTags, l3, ...ip, l4, l4HeaderLen, payload, payloadLen: ip.ipEnd - payload };
}

interface IpPart {
  ipVersion: 4 | 6;
  ipHeaderLen: number;
  jumboHbh: boolean;
  fragment: boolean;
  l4Proto: number;
  ipEnd: number;
  bigTcp: boolean;
}

function parseIpv4(frame: Uint8Array, l3: number): IpPart {
  need(frame, l3 + IPV4_MIN_HEADER_LEN, "IPv4 header");
  const version = frame[l3 + IPV4_VER_IHL] >> 4;
  const ihl = (frame[l3 + IPV4_VER_IHL] & 0x0f) * 4;
  if (version !== 4 || ihl < IPV4_MIN_HEADER_LEN) throw new OffloadError("badIpHeader", `IPv4 version ${version}, header length ${ihl}`);
  need(frame, l3 + ihl, "IPv4 header with options");
  const totalLength = get16(frame, l3 + IPV4_TOTAL_LENGTH);
  // BIG TCP for IPv4 (Linux 6.3+) posts packets over 64 KiB with total length 0; the frame
  // then says how long the packet is.
  const bigTcp = totalLength === 0;
  const ipEnd = bigTcp ? frame.length : l3 + totalLength;
  if (!bigTcp && totalLength < ihl) throw new OffloadError("badIpHeader", `IPv4 total length ${totalLength} < header length ${ihl}`);
  if (ipEnd > frame.length) throw new OffloadError("lengthBeyondFrame", `IPv4 total length ${totalLength}, only ${frame.length - l3} bytes in the frame`);
  const frag = get16(frame, l3 + IPV4_FLAGS_FRAGMENT);
  const fragment = (frag & IPV4_MF) !== 0 || (frag & IPV4_FRAGMENT_OFFSET_MASK) !== 0;
  return { ipVersion: 4, ipHeaderLen: ihl, jumboHbh: false, fragment, l4Proto: frame[l3 + IPV4_PROTOCOL], ipEnd, bigTcp };
}

function parseIpv6(frame: Uint8Array, l3: number): IpPart {
  need(frame, l3 + IPV6_HEADER_LEN, "IPv6 header");
  const version = frame[l3] >> 4;
  if (version !== 6) throw new OffloadError("badIpHeader", `IPv6 version ${version}`);
  const payloadLength = get16(frame, l3 + IPV6_PAYLOAD_LENGTH);
  let nextHeader = frame[l3 + IPV6_NEXT_HEADER];
  let at = l3 + IPV6_HEADER_LEN;
  let jumboLength = -1;
  let fragment = false;
  while (isExtensionHeader(nextHeader)) {
    need(frame, at + 2, "IPv6 extension header");
    const len = extensionHeaderLen(nextHeader, frame[at + EXT_LENGTH]);
    need(frame, at + len, "IPv6 extension header");
    if (nextHeader === NH_HOP_BY_HOP) {
      // RFC 8200 §4.1: hop-by-hop options, when present, come first.
      if (at !== l3 + IPV6_HEADER_LEN) throw new OffloadError("badIpHeader", "hop-by-hop header not first");
      jumboLength = findJumboOption(frame, at, len);
    }
    if (nextHeader === NH_FRAGMENT) fragment = true;
    nextHeader = frame[at + EXT_NEXT_HEADER];
    at += len;
  }
  const jumboHbh = jumboLength >= 0;
  if (jumboHbh && (payloadLength !== 0 || jumboLength <= 0xffff))
    throw new OffloadError("badIpHeader", `jumbo option ${jumboLength} with payload length ${payloadLength} (RFC 2675 §3)`);
  // BIG TCP for IPv6 posts payload length 0, with a jumbo option (Linux before 6.x removed
  // it) or without; the jumbo option's length, else the frame, says how long the packet is.
  const bigTcp = payloadLength === 0 && (jumboHbh || at < frame.length);
  const ipEnd = jumboHbh ? l3 + IPV6_HEADER_LEN + jumboLength : bigTcp ? frame.length : l3 + IPV6_HEADER_LEN + payloadLength;
  if (ipEnd > frame.length) throw new OffloadError("lengthBeyondFrame", `IPv6 packet claims ${ipEnd - l3} bytes, only ${frame.length - l3} in the frame`);
  if (at > ipEnd) throw new OffloadError("headersBeyondFrame", `IPv6 extension headers end at ${at}, the packet at ${ipEnd}`);
  return { ipVersion: 6, ipHeaderLen: at - l3, jumboHbh, fragment, l4Proto: nextHeader, ipEnd, bigTcp };
}

function isExtensionHeader(nh: number): boolean {
  return nh === NH_HOP_BY_HOP || nh === NH_ROUTING || nh === NH_FRAGMENT || nh === NH_DEST_OPTS || nh === NH_AUTH;
}

/** RFC 8200 §4.3–4.6: length in 8-octet units not counting the first 8; the fragment header is
 *  always 8; AH (RFC 4302 §2.2) counts 4-octet units minus 2. */
function extensionHeaderLen(nh: number, lengthField: number): number {
  if (nh === NH_FRAGMENT) return 8;
  if (nh === NH_AUTH) return (lengthField + 2) * 4;
  return (lengthField + 1) * 8;
}

/** Walks the TLV options of a hop-by-hop header; returns the jumbo payload length, or -1. A jumbo
 *  option is only accepted in the 8-byte header Linux's BIG TCP writes (RFC 2675 §2 layout),
 *  because that whole header is what chunks and segments drop. */
function findJumboOption(frame: Uint8Array, hbh: number, len: number): number {
  const PAD1 = 0;
  for (let o = hbh + 2; o < hbh + len; ) {
    const type = frame[o];
    if (type === PAD1) {
      o += 1;
      continue;
    }
    if (o + 2 > hbh + len) throw new OffloadError("badIpHeader", "hop-by-hop option runs past its header");
    const dataLen = frame[o + 1];
    if (type === JUMBO_OPTION_TYPE) {
      if (dataLen !== 4 || len !== JUMBO_HBH_LEN) throw new OffloadError("badIpHeader", "jumbo option not in an 8-byte hop-by-hop header of its own");
      return get32(frame, o + 2);
    }
    o += 2 + dataLen;
  }
  return -1;
}

function parseL4HeaderLen(frame: Uint8Array, proto: number, l4: number, fragment: boolean): number {
  if (fragment) return 0; // a fragment's transport header is not ours to read
  if (proto === PROTO_UDP) {
    need(frame, l4 + UDP_HEADER_LEN, "UDP header");
    return UDP_HEADER_LEN;
  }
  if (proto !== PROTO_TCP) return 0;
  need(frame, l4 + TCP_MIN_HEADER_LEN, "TCP header");
  const len = (frame[l4 + TCP_DATA_OFFSET] >> 4) * 4;
  if (len < TCP_MIN_HEADER_LEN) throw new OffloadError("badTcpHeader", `TCP data offset ${len / 4}`);
  need(frame, l4 + len, "TCP header with options");
  return len;
}
