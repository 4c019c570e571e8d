// The Internet checksum (RFC 1071): the ones'-complement sum of 16-bit big-endian words,
// and the pseudo-headers that TCP and UDP sums start from (RFC 9293 §3.1, RFC 768, RFC 8200 §8.1).

// The arithmetic is the reference's (src/reference/checksum.ts, the oracle the core is tested
// against); this file adds the offset-style pseudo-headers the capture generator uses.
import { checksumOf, fold, onesSum } from "../reference/checksum.js";

export { fold };

/** Adds the bytes [start, end) to a running sum as big-endian 16-bit words (an odd last byte
 *  is padded with 0), folded so the sum stays a small integer even for 256 KiB. */
export function sum16(b: Uint8Array, start: number, end: number, sum = 0): number {
  return fold(onesSum(b, start, end, sum));
}

/** The checksum field value for a region whose running sum is `sum`. */
export const finish = checksumOf;

/**
 * IPv4 pseudo-header sum: addresses, protocol and the upper-layer length. The length is added
 * as a 32-bit value, which is what Linux does for BIG TCP super-packets longer than 65535.
 */
export function pseudo4(b: Uint8Array, srcOff: number, dstOff: number, proto: number, len: number): number {
  let s = sum16(b, srcOff, srcOff + 4);
  s = sum16(b, dstOff, dstOff + 4, s);
  return s + proto + (len >>> 16) + (len & 0xffff);
}

/** IPv6 pseudo-header sum: addresses, 32-bit upper-layer length, next header. */
export function pseudo6(b: Uint8Array, srcOff: number, dstOff: number, next: number, len: number): number {
  let s = sum16(b, srcOff, srcOff + 16);
  s = sum16(b, dstOff, dstOff + 16, s);
  return s + next + (len >>> 16) + (len & 0xffff);
}
