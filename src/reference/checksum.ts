// The Internet checksum (RFC 1071), written for readability: it is the oracle the wasm core's
// checksum is tested against, and the JS baseline in benchmarks.
//
// The checksum is the 16-bit ones'-complement of the ones'-complement sum of the data taken as
// big-endian 16-bit words (RFC 1071 §1). We accumulate in an ordinary JS number and fold the
// carries at the end ("deferred carries", RFC 1071 §2(C)): a number holds 2^53 exactly, so a
// sum of up to 2^37 words (far more than any frame) never loses a bit.

/** Adds the big-endian 16-bit words of bytes[start, end) to `initial`, unfolded. An odd final
 *  byte is padded with a zero byte on the right (RFC 1071 §4.1, "if (count > 0) sum += *addr"). */
export function onesSum(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  return sum;
}

/** Folds an unfolded sum into 16 bits with end-around carry (RFC 1071 §2(B)). */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksum field value: the ones'-complement of the folded sum. */
export function checksumOf(sum: number): number {
  return ~fold(sum) & 0xffff;
}

/** Internet checksum of bytes[start, end), optionally seeded with an unfolded partial sum. */
export function internetChecksum(bytes: Uint8Array, start = 0, end = bytes.length, initial = 0): number {
  return checksumOf(onesSum(bytes, start, end, initial));
}

/** IPv4 pseudo-header sum (RFC 9293 §3.1, RFC 768): source, destination, zero + protocol,
 *  and the TCP/UDP length. `ip` is the offset of the IPv4 header in `bytes`. */
export function pseudoHeaderSumV4(bytes: Uint8Array, ip: number, protocol: number, l4Length: number): number {
  const SRC = 12; // source address; the destination follows at 16
  return onesSum(bytes, ip + SRC, ip + SRC + 8) + protocol + l4Length;
}

/** IPv6 pseudo-header sum (RFC 8200 §8.1): source, destination, 32-bit upper-layer length,
 *  three zero bytes and the next header. The addresses are those pseudoAddressesV6 names (a
 *  Routing header's final destination, a Home Address option's home address). Lengths over
 *  0xffff (jumbograms) are summed as two 16-bit words, as the 32-bit field is. */
export function pseudoHeaderSumV6(bytes: Uint8Array, ip: number, nextHeader: number, l4Length: number): number {
  const { src, dst } = pseudoAddressesV6(bytes, ip);
  return onesSum(bytes, src, src + 16) + onesSum(bytes, dst, dst + 16) + Math.floor(l4Length / 0x10000) + (l4Length & 0xffff) + nextHeader;
}

/**
 * Offsets in `bytes` of the pseudo-header's source and destination for the IPv6 header at `ip`:
 * the fixed header's, except that a Routing header with segments left names the final
 * destination (RFC 8200 §8.1: the last address for types 0 and 2, Segment List[0] for a
 * Segment Routing Header, RFC 8754 §2) and a Home Address destination option names the source
 * (RFC 6275 §6.3). Written independently of assembly/packet/ipv6.ts, from the RFCs.
 */
export function pseudoAddressesV6(bytes: Uint8Array, ip: number): { src: number; dst: number } {
  let src = ip + 8;
  let dst = ip + 24;
  let nh = bytes[ip + 6];
  let at = ip + 40;
  const generic = new Set([0, 43, 60, 135, 139, 140]); // RFC 8200 §4, RFC 6564
  for (let hops = 0; hops < 16 && at + 8 <= bytes.length; hops++) {
    const next = bytes[at];
    if (generic.has(nh)) {
      const len = (bytes[at + 1] + 1) * 8;
      if (at + len > bytes.length) break;
      if (nh === 43 && bytes[at + 3] > 0) {
        const addresses = bytes[at + 1] >> 1;
        const type = bytes[at + 2];
        if (addresses > 0 && (type === 0 || type === 2)) dst = at + 8 + 16 * (addresses - 1);
        if (addresses > 0 && type === 4) dst = at + 8;
      }
      if (nh === 60) {
        for (let o = at + 2; o + 2 <= at + len; ) {
          if (bytes[o] === 0) { o++; continue; } // Pad1
          const olen = bytes[o + 1];
          if (bytes[o] === 0xc9 && olen === 16 && o + 18 <= at + len) src = o + 2;
          o += 2 + olen;
        }
      }
      at += len;
    } else if (nh === 51) {
      at += (bytes[at + 1] + 2) * 4; // AH, RFC 4302 §2.2
    } else if (nh === 44) {
      if (((bytes[at + 2] << 8) | bytes[at + 3]) >> 3 !== 0) break; // a later fragment
      at += 8;
    } else break;
    nh = next;
  }
  return { src, dst };
}

/** RFC 1624 eqn. 3: the new checksum when one 16-bit word of the covered data changes from
 *  `oldWord` to `newWord`, without summing everything again: HC' = ~(~HC + ~m + m'). */
export function updateChecksum(oldChecksum: number, oldWord: number, newWord: number): number {
  return checksumOf((~oldChecksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff));
}

/** True when the data (which includes its checksum field) sums to 0xffff, i.e. verifies. */
export function verifies(bytes: Uint8Array, start: number, end: number, initial = 0): boolean {
  return fold(onesSum(bytes, start, end, initial)) === 0xffff;
}
