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
