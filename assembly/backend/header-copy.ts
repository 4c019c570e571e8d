// Partial copy: how much of the front of a frame goes into the pre-translated pool buffer.
//
// Only a variable-length first part of each frame is copied (US 7,657,659 / 7,831,739); the
// rest is sent from where it lies in guest memory through SG entries. The device parses and
// transmits its own copy of the headers, so a guest that rewrites them after posting cannot
// change what reaches the wire.
//
// Modes (P_copyMode):
//   COPY_HEADERS  frames that fit a pool buffer are copied whole (no translation at all);
//                 longer ones through the end of their L4 header, found by parsing the copy
//   COPY_L3_10    the Ethernet header with its tags + the first 10 bytes of the IPv4 header
//                 (through the protocol field): the patents' minimal form
//   COPY_FIXED    the first P_copyBytes bytes
//   COPY_FULL     the whole frame, into the slot's 2 KiB bounce buffer (the copy baseline; a
//                 longer frame copies its first 2 KiB and references the rest)
//   COPY_NONE     nothing: every byte is translated and referenced (the other baseline)

import { BOUNCE_SIZE, POOL_DATA_SIZE, bounceBase, ringSlots } from "../shared/layout";
import { poolBuffer, poolData } from "./tx-buffers";
import { copyFromGuest } from "../shared/guest-memory";
import { param, P_copyMode, P_copyBytes } from "../shared/params";
import { parseHeaders, PARSE_OK, PARSE_TRUNCATED, hdrTotalLen } from "../packet/headers";
import { ETH_HEADER_LEN, MAX_TAGS, VLAN_TAG_LEN, ethernetHeaderLen } from "../packet/ethernet";
import { countAdd, C_unparsed } from "../shared/counters";
import { curCsumOffset, curCsumStart, curFlags } from "./descriptor-snapshot";
import { VIRTIO_NET_HDR_F_NEEDS_CSUM } from "../shared/descriptors";
import { UDP_CHECKSUM, UDP_HEADER_LEN } from "../packet/udp";

export const COPY_HEADERS: u32 = 0;
export const COPY_L3_10: u32 = 1;
export const COPY_FIXED: u32 = 2;
export const COPY_FULL: u32 = 3;
export const COPY_NONE: u32 = 4;

// The first speculative copy in COPY_HEADERS: at least 80 bytes (Ethernet + IPv4 + TCP with
// the timestamps option is 66, IPv6 + TCP with it 86, IPv4 + UDP 42), through the end of the
// cache line that holds the 80th byte — so it touches two lines of the guest's frame (guest
// buffers start on a line) where a fixed 128 bytes from anywhere touched three. Each is a miss
// (the guest wrote the frame on the other core), and the lines are what the backend pays for,
// not the bytes; but a second copy-and-parse round costs more than a line, so the first copy
// is sized for TCP with options, the common case at 1514 bytes. Longer stacks copy on a line
// at a time, up to a pool buffer. (1514-byte frames, backend ns: see the commits.)
const SPECULATIVE_MIN: u32 = 80;
const LINE_BYTES: u32 = 64;
// What an unparsable frame gets instead (counted in copy.unparsed).
export const FALLBACK_COPY: u32 = 64;
const L3_10_BYTES: u32 = 10;

// @ts-ignore: decorator
@inline function min(a: u32, b: u32): u32 {
  return a < b ? a : b;
}

/** Machine address of the bytes the last copyFirstPart copied (its buffer's data area). */
export let copiedAt: u32 = 0;

/**
 * Copies the first part of the frame at guest-physical [gpa, gpa + len) (already checked to
 * lie in guest RAM, len > 0) into the device buffer of physical slot `physIndex`. Returns the
 * bytes copied; they are at `copiedAt`.
 */
// @ts-ignore: decorator (inlined: on the per-packet path; translate.ts says why)
@inline export function copyFirstPart(physIndex: u32, gpa: u32, len: u32): u32 {
  const mode = param(P_copyMode);
  const dst = poolData(poolBuffer(physIndex));
  copiedAt = dst;
  if (mode == COPY_HEADERS) return copyHeaders(dst, gpa, len);
  if (mode == COPY_NONE) return 0;
  if (mode == COPY_L3_10) return copyL3Prefix(dst, gpa, len);
  let n: u32 = 0;
  if (mode == COPY_FIXED) {
    n = min(min(len, param(P_copyBytes)), POOL_DATA_SIZE);
  } else {
    n = min(len, BOUNCE_SIZE);
    copiedAt = bounceBase + (physIndex & (ringSlots - 1)) * BOUNCE_SIZE;
  }
  copyFromGuest(copiedAt, gpa, n);
  return n;
}

function copyHeaders(dst: u32, gpa: u32, len: u32): u32 {
  if (len <= POOL_DATA_SIZE) {
    copyFromGuest(dst, gpa, len);
    return len;
  }
  if (copyAndParseHeaders(dst, gpa, len, firstCopyHint()) != PARSE_OK) {
    countAdd(C_unparsed, 1);
    return FALLBACK_COPY;
  }
  return hdrTotalLen;
}

/**
 * Copies the front of the frame into `dst` (80–143 bytes first, then a line at a time up to a
 * pool buffer's 240 while the headers run on) and parses the copy: the device only ever trusts its own copy. Returns the
 * parse status; hdrTotalLen and friends describe the headers.
 */
export function copyAndParseHeaders(dst: u32, gpa: u32, len: u32, first: u32 = SPECULATIVE_MIN): u32 {
  const cap = min(len, POOL_DATA_SIZE);
  const lineEnd = ((gpa + first - 1) | (LINE_BYTES - 1)) + 1;
  let have = min(cap, lineEnd - gpa);
  copyFromGuest(dst, gpa, have);
  let r = parseHeaders(dst, have);
  // Headers that run on take one more line at a time (each a miss), up to a pool buffer.
  while (r == PARSE_TRUNCATED && have < cap) {
    const more = min(cap - have, LINE_BYTES);
    copyFromGuest(dst + have, gpa + have, more);
    have += more;
    r = parseHeaders(dst, have);
  }
  return r;
}

/**
 * How many bytes the first copy should cover, from the guest's checksum request: a UDP
 * checksum (csum_offset 6, virtio 1.2 §5.1.6.2) says the headers end 8 bytes past csum_start,
 * so a line-aligned IPv4/UDP frame needs one line, not two. Only a hint for the size of the
 * first copy: the device still parses its own copy, and copies on if the headers run on.
 */
function firstCopyHint(): u32 {
  if ((curFlags & VIRTIO_NET_HDR_F_NEEDS_CSUM) == 0 || curCsumOffset != UDP_CHECKSUM) return SPECULATIVE_MIN;
  const end = curCsumStart + UDP_HEADER_LEN;
  return end >= 14 && end < SPECULATIVE_MIN ? end : SPECULATIVE_MIN;
}

function copyL3Prefix(dst: u32, gpa: u32, len: u32): u32 {
  // Copy enough for the most tags we parse + 10 bytes of IP, then cut back to what the frame
  // holds (the result never exceeds what was copied).
  const probe = min(len, ETH_HEADER_LEN + MAX_TAGS * VLAN_TAG_LEN + L3_10_BYTES);
  copyFromGuest(dst, gpa, probe);
  const l2 = ethernetHeaderLen(dst, probe);
  if (l2 == 0) {
    countAdd(C_unparsed, 1);
    return probe;
  }
  return min(len, l2 + L3_10_BYTES);
}
