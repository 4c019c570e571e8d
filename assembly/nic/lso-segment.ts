// Large send offload, stage 2: the NIC cuts a chunk into MTU-sized frames (docs/design.md §5).
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
// For UDP segmentation (GSO_UDP_L4) the transport fix-ups are the kernel's __udp_gso_segment
// (net/ipv4/udp_offload.c): each segment's UDP length, and its full UDP checksum over its own
// pseudo-header (a computed 0 sent as 0xffff, RFC 768); IP length, ID and checksum as above.
// A UDP tunnel (PD_OUTER_L3 != 0; skb_udp_tunnel_segment): the inner packet as above, then
// the outer stack of each segment — outer IPv4 total length, ID (+i) and header checksum, or
// IPv6 payload length; outer UDP length; the outer UDP checksum computed over the segment when
// the guest set VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM, else left as the guest wrote it (zero).
// Segments are written straight into the wire ring: the payload is copied once, by the DMA.

import * as D from "../shared/descriptors";
import { countAdd, C_segments } from "../shared/counters";
import { DROP_oversize, STATUS_OK } from "../shared/completion-status";
import { param, P_fixedId, P_mtu } from "../shared/params";
import { wireCommit, wireHasRoom, wireReserve, WIRE_RECORD_HEADER } from "./wire-ring";
import { be16, be32, setBe16, setBe32 } from "../packet/bytes";
import { checksumAdd, fold, ipv4HeaderChecksum, pseudoHeaderV4, pseudoHeaderV6, storeChecksum } from "../packet/checksum";
import { IPV4_ID, IPV4_TOTAL_LEN, ipv4HeaderLen } from "../packet/ipv4";
import { IPV6_HEADER_LEN, IPV6_PAYLOAD_LEN } from "../packet/ipv6";
import { IPPROTO_TCP, TCP_CHECKSUM, TCP_CWR, TCP_FIN, TCP_FLAGS, TCP_PSH, TCP_SEQ } from "../packet/tcp";
import { IPPROTO_UDP, UDP_CHECKSUM, UDP_LENGTH, storeUdpChecksum } from "../packet/udp";
import { isUdpLargeSend } from "../backend/gso-check";

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
  const udp = isUdpLargeSend(load<u8>(pd + D.PD_GSO_TYPE));
  const o3 = <u32>load<u16>(pd + D.PD_OUTER_L3);
  const o4 = <u32>load<u16>(pd + D.PD_OUTER_L4);
  const outerV4 = load<u8>(pd + D.PD_OUTER_IP_VERSION) == 4;
  const outerCsum = (load<u8>(pd + D.PD_FLAGS) & D.VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM) != 0;
  segmentsMade = 0;
  segmentBytes = 0;
  if (h - (o3 != 0 ? o3 : l3) + mss > param(P_mtu)) return DROP_oversize;
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
  const outerId0 = o3 != 0 && outerV4 ? be16(hdr + o3 + IPV4_ID) : 0;
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
    const l4h = at + l4;
    if (v4) {
      setBe16(sip + IPV4_TOTAL_LEN, h - l3 + len);
      if (!fixedId) setBe16(sip + IPV4_ID, id0 + i);
      ipv4HeaderChecksum(sip, ipv4HeaderLen(sip));
    } else {
      setBe16(sip + IPV6_PAYLOAD_LEN, h - l3 - IPV6_HEADER_LEN + len);
    }
    let innerPseudo: u32 = 0;
    if (udp) {
      fixUdpSegment(l4h, sip, v4, h - l4 + len);
    } else {
      innerPseudo = fixTcpSegment(l4h, sip, v4, h - l4 + len, seq0 + i * mss, flags0, i, segments);
    }
    if (o3 != 0) fixOuterSegment(at, o3, o4, v4 ? l3 : l4, outerV4, h + len, fixedId ? outerId0 : outerId0 + i, outerCsum, innerPseudo);
    wireCommit(ts);
    segmentBytes += h + len;
    segmentsMade++;
  }
  resumeSegment = 0;
  countAdd(C_segments, segmentsMade);
  return STATUS_OK;
}

/** TCP segment i of `segments`: sequence, FIN/PSH on the last, CWR on the first, checksum.
 *  Returns the pseudo-header sum it used (a tunnel's outer checksum needs it). */
// @ts-ignore: decorator
@inline function fixTcpSegment(tcp: u32, sip: u32, v4: bool, tcpLen: u32, seq: u32, flags0: u32,
  i: u32, segments: u32): u32 {
  setBe32(tcp + TCP_SEQ, seq);
  let flags = flags0;
  if (i + 1 < segments) flags &= ~(TCP_FIN | TCP_PSH);
  if (i > 0) flags &= ~TCP_CWR;
  store<u8>(tcp + TCP_FLAGS, <u8>flags);
  store<u16>(tcp + TCP_CHECKSUM, 0);
  const pseudo = v4 ? pseudoHeaderV4(sip, IPPROTO_TCP, tcpLen) : pseudoHeaderV6(sip, IPPROTO_TCP, tcpLen);
  storeChecksum(tcp + TCP_CHECKSUM, checksumAdd(tcp, tcpLen, pseudo));
  return pseudo;
}

/** UDP segment (__udp_gso_segment): its own length and checksum. */
// @ts-ignore: decorator
@inline function fixUdpSegment(uh: u32, sip: u32, v4: bool, udpLen: u32): void {
  setBe16(uh + UDP_LENGTH, udpLen);
  store<u16>(uh + UDP_CHECKSUM, 0);
  const pseudo = v4 ? pseudoHeaderV4(sip, IPPROTO_UDP, udpLen) : pseudoHeaderV6(sip, IPPROTO_UDP, udpLen);
  storeUdpChecksum(uh + UDP_CHECKSUM, checksumAdd(uh, udpLen, pseudo));
}

/** A tunnel's outer stack of a segment of `frameLen` bytes, after its inner TCP checksum. The
 *  outer UDP checksum covers the inner TCP segment, whose sum — its checksum now in place — is
 *  the complement of its pseudo-header sum `innerPseudo`: so only the bytes from the outer UDP
 *  header to the inner TCP header are summed, never the payload again (the kernel's Local
 *  Checksum Offload identity, lco_csum; Documentation/networking/checksum-offloads.rst). An
 *  inner IPv4 header with its checksum in place sums to 0xffff, ones'-complement zero, so the
 *  caller passes `summedTo` = the inner IPv4 header's start (IPv6: the inner TCP header's):
 *  the ±0 this leaves open is one value on the wire, UDP sending 0 as 0xffff. */
// @ts-ignore: decorator
@inline function fixOuterSegment(at: u32, o3: u32, o4: u32, summedTo: u32, v4: bool, frameLen: u32, id: u32, csum: bool,
  innerPseudo: u32): void {
  const ip = at + o3;
  if (v4) {
    setBe16(ip + IPV4_TOTAL_LEN, frameLen - o3);
    setBe16(ip + IPV4_ID, id);
    ipv4HeaderChecksum(ip, ipv4HeaderLen(ip));
  } else {
    setBe16(ip + IPV6_PAYLOAD_LEN, frameLen - o3 - IPV6_HEADER_LEN);
  }
  const udpLen = frameLen - o4;
  setBe16(at + o4 + UDP_LENGTH, udpLen);
  if (!csum) return;
  store<u16>(at + o4 + UDP_CHECKSUM, 0);
  const pseudo = v4 ? pseudoHeaderV4(ip, IPPROTO_UDP, udpLen) : pseudoHeaderV6(ip, IPPROTO_UDP, udpLen);
  const innerSum = ~fold(innerPseudo) & 0xffff;
  storeUdpChecksum(at + o4 + UDP_CHECKSUM, checksumAdd(at + o4, summedTo - o4, pseudo + innerSum));
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
