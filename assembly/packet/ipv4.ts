// IPv4 header (RFC 791). Field offsets from the start of the IP header.

import { be16 } from "./bytes";

export const IPV4_MIN_LEN: u32 = 20;
export const IPV4_VER_IHL: u32 = 0;
export const IPV4_TOS: u32 = 1;
export const IPV4_TOTAL_LEN: u32 = 2;
export const IPV4_ID: u32 = 4;
export const IPV4_FLAGS_FRAG: u32 = 6; // flags (3 bits: reserved, DF, MF) + 13-bit offset
export const IPV4_TTL: u32 = 8;
export const IPV4_PROTO: u32 = 9;
export const IPV4_CHECKSUM: u32 = 10;
export const IPV4_SRC: u32 = 12;
export const IPV4_DST: u32 = 16;

export const IPV4_MF: u32 = 0x2000;
export const IPV4_FRAG_OFFSET_MASK: u32 = 0x1fff;

// @ts-ignore: decorator
@inline export function ipv4Version(ip: u32): u32 {
  return load<u8>(ip + IPV4_VER_IHL) >> 4;
}

/** Header length in bytes (IHL × 4), options included. */
// @ts-ignore: decorator
@inline export function ipv4HeaderLen(ip: u32): u32 {
  return (load<u8>(ip + IPV4_VER_IHL) & 0x0f) << 2;
}

/** True for any fragment: MF set or a nonzero offset (RFC 791 §3.2). */
// @ts-ignore: decorator
@inline export function ipv4IsFragment(ip: u32): bool {
  return (be16(ip + IPV4_FLAGS_FRAG) & (IPV4_MF | IPV4_FRAG_OFFSET_MASK)) != 0;
}

/** True for a non-first fragment, which carries no L4 header. */
// @ts-ignore: decorator
@inline export function ipv4IsLaterFragment(ip: u32): bool {
  return (be16(ip + IPV4_FLAGS_FRAG) & IPV4_FRAG_OFFSET_MASK) != 0;
}
