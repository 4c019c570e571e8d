// Large send offload, stage 2: the NIC cuts a chunk into MTU-sized frames (DESIGN.md §5).
//
// Segment i of a chunk with MSS m: the chunk's header, then payload bytes [i·m, (i+1)·m) gathered
// from the chunk's SG entries; then the per-segment fix-ups —
//   IPv4 total length / IPv6 payload length for the segment;
//   IPv4 ID = chunk's ID + i (mod 2^16), unless fixed-ID (P_fixedId);
//   TCP seq = chunk's seq + i·m (mod 2^32);
//   FIN and PSH only on the last segment, CWR only on the first;
//   TCP options and VLAN tags copied unchanged (they are part of the header);
//   the IPv4 header checksum, and the full TCP checksum over a pseudo-header rebuilt from the
//   segment's own IP header (the guest's seed in the checksum field is never used).
// Segments are written straight into the wire ring: the payload is copied once, by the DMA.

import * as D from "./descriptors";
import { countAdd, C_segments, DROP_oversize, STATUS_OK } from "./counters";
import { param, P_fixedId, P_mtu } from "./params";
import { wireCommit, wireHasRoom, wireReserve, WIRE_RECORD_HEADER } from "./wire_sink";
import { be16, be32, setBe16, setBe32 } from "./wire/bytes";
import { checksumAdd, ipv4HeaderChecksum, pseudoHeaderV4, pseudoHeaderV6, storeChecksum } from "./wire/checksum";
import { IPV4_ID, IPV4_TOTAL_LEN, ipv4HeaderLen } from "./wire/ipv4";
import { IPV6_HEADER_LEN, IPV6_PAYLOAD_LEN } from "./wire/ipv6";
import { IPPROTO_TCP, TCP_CHECKSUM, TCP_CWR, TCP_FIN, TCP_FLAGS, TCP_PSH, TCP_SEQ } from "./wire/tcp";

export const STALL: u32 = 0xffffffff;

// Gather cursor over the chunk's SG entries (per instance).
let sgAt: u32 = 0; // address of the current SG entry
let sgLeft: u32 = 0; // bytes left in it
let sgAddr: u32 = 0; // machine address of its next byte

/** Frames written by the last segmentChunk call. */
export let segmentsMade: u32 = 0;
export let segmentBytes: u64 = 0;

// A chunk the wire cannot take in one go (MSS 1 makes 64 K frames) is cut over several turns:
// where it stopped is kept here, and the NIC retries the same descriptor until it is done.
let resumePd: u32 = 0;
let resumeSegment: u32 = 0;

/** Cuts the chunk described by physical descriptor `pd` into wire frames. Returns STATUS_OK, a
 *  drop reason, or STALL when the wire is full (it then resumes where it stopped). */
export function segmentChunk(pd: u32): u32 {
  const hdr = load<u32>(pd + D.PD_HDR_ADDR);
  const h = <u32>load<u16>(pd + D.PD_HDR_COPIED);
  const payload = load<u32>(pd + D.PD_TOTAL_LEN) - h;
  const mss = <u32>load<u16>(pd + D.PD_GSO_SIZE);
  const l3 = <u32>load<u16>(pd + D.PD_L3_OFFSET);
  const l4 = <u32>load<u16>(pd + D.PD_L4_OFFSET);
  const v4 = load<u8>(pd + D.PD_IP_VERSION) == 4;
  segmentsMade = 0;
  segmentBytes = 0;
  if (h - l3 + mss > param(P_mtu)) return DROP_oversize;
  const segments = max<u32>(1, (payload + mss - 1) / mss); // no payload: one header-only frame
  const recordMax = WIRE_RECORD_HEADER + ((h + mss + 7) & ~7);
  let i: u32 = 0;
  if (pd == resumePd && resumeSegment != 0) {
    i = resumeSegment;
  } else {
    sgAt = load<u32>(pd + D.PD_SG_ADDR);
    sgLeft = 0;
  }
  const ip = hdr + l3;
  const id0 = v4 ? be16(ip + IPV4_ID) : 0;
  const seq0 = be32(hdr + l4 + TCP_SEQ);
  const flags0 = <u32>load<u8>(hdr + l4 + TCP_FLAGS);
  const fixedId = param(P_fixedId) != 0;
  const ts = load<u64>(pd + D.PD_TIMESTAMP);
  for (; i < segments; i++) {
    // Room for this record and a wrap's waste: checked per segment, resumed on the next turn.
    if (!wireHasRoom(recordMax + recordMax)) {
      resumePd = pd;
      resumeSegment = i;
      countAdd(C_segments, segmentsMade);
      return STALL;
    }
    const len = payload - i * mss < mss ? payload - i * mss : mss;
    const at = wireReserve(h + len);
    memory.copy(at, hdr, h);
    gather(at + h, len);
    const sip = at + l3;
    const tcp = at + l4;
    if (v4) {
      setBe16(sip + IPV4_TOTAL_LEN, h - l3 + len);
      if (!fixedId) setBe16(sip + IPV4_ID, id0 + i);
      ipv4HeaderChecksum(sip, ipv4HeaderLen(sip));
    } else {
      setBe16(sip + IPV6_PAYLOAD_LEN, h - l3 - IPV6_HEADER_LEN + len);
    }
    setBe32(tcp + TCP_SEQ, seq0 + i * mss);
    let flags = flags0;
    if (i + 1 < segments) flags &= ~(TCP_FIN | TCP_PSH);
    if (i > 0) flags &= ~TCP_CWR;
    store<u8>(tcp + TCP_FLAGS, <u8>flags);
    const tcpLen = h - l4 + len;
    store<u16>(tcp + TCP_CHECKSUM, 0);
    const pseudo = v4 ? pseudoHeaderV4(sip, IPPROTO_TCP, tcpLen) : pseudoHeaderV6(sip, IPPROTO_TCP, tcpLen);
    storeChecksum(tcp + TCP_CHECKSUM, checksumAdd(tcp, tcpLen, pseudo));
    wireCommit(ts);
    segmentBytes += h + len;
    segmentsMade++;
  }
  resumeSegment = 0;
  countAdd(C_segments, segmentsMade);
  return STATUS_OK;
}

/** Copies the next `len` payload bytes from the SG entries to `dst`. */
function gather(dst: u32, len: u32): void {
  while (len > 0) {
    if (sgLeft == 0) {
      sgAddr = load<u32>(sgAt + D.SG_ADDR);
      sgLeft = load<u32>(sgAt + D.SG_LEN);
      sgAt += 8;
    }
    const n = len < sgLeft ? len : sgLeft;
    memory.copy(dst, sgAddr, n);
    dst += n;
    sgAddr += n;
    sgLeft -= n;
    len -= n;
  }
}

/** Hand-over (inflight.ts): the chunk cut part-way and the gather cursor, to or from `at`
 *  (20 bytes), so a new device resumes the chunk at the segment where the last one stopped. */
export function segmentSaveState(at: u32): void {
  store<u32>(at, resumePd);
  store<u32>(at + 4, resumeSegment);
  store<u32>(at + 8, sgAt);
  store<u32>(at + 12, sgLeft);
  store<u32>(at + 16, sgAddr);
}

export function segmentLoadState(at: u32): void {
  resumePd = load<u32>(at);
  resumeSegment = load<u32>(at + 4);
  sgAt = load<u32>(at + 8);
  sgLeft = load<u32>(at + 12);
  sgAddr = load<u32>(at + 16);
}
