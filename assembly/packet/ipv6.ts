// IPv6 header (RFC 8200) and the walk over its extension headers.

import { be16 } from "./bytes";

export const IPV6_HEADER_LEN: u32 = 40;
export const IPV6_PAYLOAD_LEN: u32 = 4;
export const IPV6_NEXT_HEADER: u32 = 6;
export const IPV6_HOP_LIMIT: u32 = 7;
export const IPV6_SRC: u32 = 8;
export const IPV6_DST: u32 = 24;

export const NH_HOP_BY_HOP: u32 = 0;
export const NH_ROUTING: u32 = 43;
export const NH_FRAGMENT: u32 = 44;
export const NH_ESP: u32 = 50;
export const NH_AH: u32 = 51;
export const NH_NONE: u32 = 59;
export const NH_DEST_OPTS: u32 = 60;
export const NH_MOBILITY: u32 = 135;
export const NH_HIP: u32 = 139;
export const NH_SHIM6: u32 = 140;

/** Extension headers whose length is (hdr ext len + 1) × 8 (RFC 8200 §4; HIP, Shim6, Mobility
 *  use the same format, RFC 6564). */
export function isGenericExtension(nh: u32): bool {
  return nh == NH_HOP_BY_HOP || nh == NH_ROUTING || nh == NH_DEST_OPTS ||
    nh == NH_MOBILITY || nh == NH_HIP || nh == NH_SHIM6;
}

// Results of walkIpv6 (per instance; read right after the call).
export let ipv6UpperProto: u32 = 0;
export let ipv6UpperOffset: u32 = 0;
export let ipv6Fragmented: bool = false;
export let ipv6LaterFragment: bool = false; // a fragment with a nonzero offset: no L4 header

/** Walks the extension headers of the IPv6 header at `ip` with `avail` bytes readable.
 *  Sets ipv6UpperProto / ipv6UpperOffset (relative to `ip`) and returns true, or returns false
 *  when a header runs past `avail`. A non-first fragment or ESP ends the walk with the
 *  upper-layer offset at that header (there is no parsable L4 header behind it). */
export function walkIpv6(ip: u32, avail: u32): bool {
  if (avail < IPV6_HEADER_LEN) return false;
  let nh = <u32>load<u8>(ip + IPV6_NEXT_HEADER);
  let at = IPV6_HEADER_LEN;
  ipv6Fragmented = false;
  ipv6LaterFragment = false;
  for (let hops = 0; hops < 16; hops++) {
    if (isGenericExtension(nh)) {
      if (at + 8 > avail) return false;
      const next = <u32>load<u8>(ip + at);
      at += (<u32>load<u8>(ip + at + 1) + 1) << 3;
      nh = next;
    } else if (nh == NH_AH) {
      if (at + 8 > avail) return false;
      const next = <u32>load<u8>(ip + at);
      at += (<u32>load<u8>(ip + at + 1) + 2) << 2; // RFC 4302 §2.2: length in 4-octet units − 2
      nh = next;
    } else if (nh == NH_FRAGMENT) {
      if (at + 8 > avail) return false;
      ipv6Fragmented = true;
      const next = <u32>load<u8>(ip + at);
      const offset = be16(ip + at + 2) >> 3;
      at += 8;
      nh = next;
      if (offset != 0) {
        ipv6LaterFragment = true;
        break;
      }
    } else {
      break;
    }
    if (at > avail) return false;
  }
  ipv6UpperProto = nh;
  ipv6UpperOffset = at;
  return true;
}

// Where the IPv6 pseudo-header's addresses come from (set by ipv6PseudoAddresses, offsets from
// the IPv6 header; read right after the call).
export let pseudoSrcOffset: u32 = IPV6_SRC;
export let pseudoDstOffset: u32 = IPV6_DST;

const RH_TYPE0: u32 = 0; // RFC 2460 §4.4 (deprecated by RFC 5095, still in captures)
const RH_TYPE2: u32 = 2; // RFC 6275 §6.4: Mobile IPv6, the home address
const RH_SRH: u32 = 4; // RFC 8754 §2: Segment List[0] is the last segment
const OPT_PAD1: u32 = 0;
const OPT_HOME_ADDRESS: u32 = 0xc9; // RFC 6275 §6.3
const HOME_ADDRESS_LEN: u32 = 16;

/**
 * The addresses the TCP/UDP checksum's pseudo-header uses, which are not always the fixed
 * header's: with a Routing header that has segments left, the destination is the final one
 * (RFC 8200 §8.1: "the last element of the Routing header" for types 0 and 2; Segment List[0]
 * for a Segment Routing Header); with a Home Address destination option the source is the
 * home address (RFC 6275 §6.3). Walks the same extension headers as walkIpv6, reading nothing
 * past `avail` bytes from `ip`.
 */
export function ipv6PseudoAddresses(ip: u32, avail: u32): void {
  pseudoSrcOffset = IPV6_SRC;
  pseudoDstOffset = IPV6_DST;
  if (avail < IPV6_HEADER_LEN) return;
  let nh = <u32>load<u8>(ip + IPV6_NEXT_HEADER);
  let at = IPV6_HEADER_LEN;
  for (let hops = 0; hops < 16; hops++) {
    if (at + 8 > avail) return;
    const next = <u32>load<u8>(ip + at);
    const extLen = <u32>load<u8>(ip + at + 1);
    if (isGenericExtension(nh)) {
      const len = (extLen + 1) << 3;
      if (at + len > avail) return;
      if (nh == NH_ROUTING) routingDestination(ip, at, extLen);
      else if (nh == NH_DEST_OPTS) homeAddress(ip, at, len);
      at += len;
    } else if (nh == NH_AH) {
      at += (extLen + 2) << 2;
    } else if (nh == NH_FRAGMENT) {
      if ((be16(ip + at + 2) >> 3) != 0) return; // a later fragment: no upper-layer header
      at += 8;
    } else {
      return;
    }
    nh = next;
  }
}

function routingDestination(ip: u32, at: u32, extLen: u32): void {
  const type = <u32>load<u8>(ip + at + 2);
  const segmentsLeft = <u32>load<u8>(ip + at + 3);
  if (segmentsLeft == 0) return; // already at the final destination: the fixed header has it
  const addresses = extLen >> 1; // 16-byte addresses after the 8-byte fixed part
  if (addresses == 0) return;
  if (type == RH_TYPE0 || type == RH_TYPE2) pseudoDstOffset = at + 8 + 16 * (addresses - 1);
  else if (type == RH_SRH) pseudoDstOffset = at + 8;
}

function homeAddress(ip: u32, at: u32, len: u32): void {
  let o = at + 2;
  const end = at + len;
  while (o < end) {
    const type = <u32>load<u8>(ip + o);
    if (type == OPT_PAD1) {
      o++;
      continue;
    }
    if (o + 2 > end) return;
    const olen = <u32>load<u8>(ip + o + 1);
    if (o + 2 + olen > end) return;
    if (type == OPT_HOME_ADDRESS && olen == HOME_ADDRESS_LEN) pseudoSrcOffset = o + 2;
    o += 2 + olen;
  }
}
