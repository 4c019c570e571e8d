// The Internet checksum (RFC 1071): the ones'-complement sum of 16-bit big-endian words,
// and the pseudo-headers that TCP and UDP sums start from (RFC 9293 §3.1, RFC 768, RFC 8200 §8.1).

/** Adds the bytes [start, end) to a running sum as big-endian 16-bit words (an odd last byte is padded with 0). */
export function sum16(b: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  // Fold now and then so the sum stays a small integer even for 256 KiB.
  return (sum & 0xffff) + Math.floor(sum / 0x10000);
}

/** Folds a running sum to 16 bits (end-around carry). */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksum field value for a region whose running sum is `sum`. */
export function finish(sum: number): number {
  return ~fold(sum) & 0xffff;
}

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
