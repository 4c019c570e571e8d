// The Internet checksum (RFC 1071) and the TCP/UDP pseudo-headers (RFC 9293 §3.1, RFC 768,
// RFC 8200 §8.1).
//
// Sums are carried as "partial" u32 values: a ones'-complement sum of 16-bit words in *memory
// order*. Loading little-endian words and summing them gives the byte-swapped sum of the
// big-endian words (RFC 1071 §2(B), byte-order independence), so the caller folds, then
// swaps once when it stores the result into a big-endian field (storeChecksum does both).

import { ipv6PseudoAddresses, pseudoDstOffset, pseudoSrcOffset } from "./ipv6";

// @ts-ignore: decorator
@inline function fold64(s: u64): u32 {
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffffffff) + (s >> 32);
  let t = <u32>s;
  t = (t & 0xffff) + (t >> 16);
  t = (t & 0xffff) + (t >> 16);
  return t;
}

/** Folds a partial sum to 16 bits (memory order), not complemented. */
// @ts-ignore: decorator
@inline export function fold(sum: u32): u32 {
  sum = (sum & 0xffff) + (sum >> 16);
  return (sum & 0xffff) + (sum >> 16);
}

/** Ones'-complement sum of `len` bytes at `p`, added to `initial`; result in memory order. A
 *  trailing odd byte counts as the high byte of a zero-padded word (its memory position). */
export function checksumAdd(p: u32, len: u32, initial: u32): u32 {
  let acc: u64 = <u64>initial;
  // Bulk: 64 bytes per step. Each 16-byte vector becomes four u32 lanes of pairwise-added u16
  // words (i32x4.extadd_pairwise_i16x8_u, at most 2·0xffff per lane), summed into two
  // independent accumulators (no single dependency chain). A lane gains at most 2·(2·0xffff)
  // per step, so blocks of 1024 steps (64 KiB) are far from overflowing; each block is widened
  // into the u64 accumulator. Summing 16-bit words instead of 32-bit ones gives the same
  // ones'-complement sum (2^16 ≡ 1 mod 0xffff).
  while (len >= 64) {
    let steps = len >> 6;
    if (steps > 1024) steps = 1024;
    len -= steps << 6;
    let va = i32x4.splat(0);
    let vb = i32x4.splat(0);
    for (; steps > 0; steps--) {
      va = i32x4.add(va, i32x4.extadd_pairwise_i16x8_u(v128.load(p)));
      vb = i32x4.add(vb, i32x4.extadd_pairwise_i16x8_u(v128.load(p, 16)));
      va = i32x4.add(va, i32x4.extadd_pairwise_i16x8_u(v128.load(p, 32)));
      vb = i32x4.add(vb, i32x4.extadd_pairwise_i16x8_u(v128.load(p, 48)));
      p += 64;
    }
    const w = i64x2.add(
      i64x2.add(i64x2.extend_low_i32x4_u(va), i64x2.extend_high_i32x4_u(va)),
      i64x2.add(i64x2.extend_low_i32x4_u(vb), i64x2.extend_high_i32x4_u(vb)),
    );
    acc += <u64>i64x2.extract_lane(w, 0) + <u64>i64x2.extract_lane(w, 1);
  }
  while (len >= 4) {
    acc += <u64>load<u32>(p);
    p += 4;
    len -= 4;
  }
  if (len >= 2) {
    acc += <u64>load<u16>(p);
    p += 2;
    len -= 2;
  }
  if (len == 1) acc += <u64>load<u8>(p);
  return fold64(acc);
}

/** Stores the complemented checksum of partial sum `sum` as a big-endian field at `at`. */
// @ts-ignore: decorator
@inline export function storeChecksum(at: u32, sum: u32): void {
  store<u16>(at, <u16>~fold(sum));
}

/** The complemented checksum value as a host number in network order (for tests). */
export function finishChecksum(sum: u32): u32 {
  return <u32>bswap<u16>(<u16>~fold(sum));
}

/** Partial sum of the IPv4 pseudo-header: src, dst, zero+protocol, L4 length. */
export function pseudoHeaderV4(ip: u32, proto: u32, l4Len: u32): u32 {
  let s: u64 = <u64>load<u32>(ip + 12) + <u64>load<u32>(ip + 16);
  s += <u64>bswap<u16>(<u16>proto) + <u64>bswap<u16>(<u16>l4Len);
  return fold64(s);
}

/**
 * Partial sum of the IPv6 pseudo-header: src, dst, 32-bit upper-layer length, next header.
 * The addresses are the ones RFC 8200 §8.1 and RFC 6275 §6.3 name (ipv6PseudoAddresses): the
 * final destination of a Routing header, the home address of a Home Address option. `avail`
 * bounds the walk over the extension headers (callers have parsed them already).
 */
export function pseudoHeaderV6(ip: u32, proto: u32, l4Len: u32, avail: u32 = PSEUDO_WALK_LIMIT): u32 {
  ipv6PseudoAddresses(ip, avail);
  let s: u64 = 0;
  const src = ip + pseudoSrcOffset;
  const dst = ip + pseudoDstOffset;
  for (let i: u32 = 0; i < 16; i += 4) s += <u64>load<u32>(src + i) + <u64>load<u32>(dst + i);
  s += <u64>bswap<u32>(l4Len) + <u64>bswap<u32>(proto);
  return fold64(s);
}

/** Longest IPv6 header chain the pseudo-header walk reads (the L4 header always starts before). */
const PSEUDO_WALK_LIMIT: u32 = 1024;

/** Rewrites the IPv4 header checksum of the header at `ip` (ihl bytes). */
export function ipv4HeaderChecksum(ip: u32, ihl: u32): void {
  store<u16>(ip + 10, 0);
  storeChecksum(ip + 10, checksumAdd(ip, ihl, 0));
}
