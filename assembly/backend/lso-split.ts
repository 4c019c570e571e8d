// Large send offload, stage 1: the backend's filter (US 8,654,784 / 9,270,608).
//
// A large send bigger than the NIC accepts (P_nicMaxLso bytes of IP packet) is cut into chunks of
// k·MSS payload — only the last may be short — each a large send of its own that the NIC
// (stage 2, lso-segment.ts) cuts into MTU-sized frames. Every chunk gets its own copy of the headers
// in its own pre-translated pool buffer, fixed up so that stage 2 reproduces exactly what a
// one-stage segmentation of the whole packet would (docs/design.md §5):
//   IPv4 total length / IPv6 payload length: the chunk's own (BIG TCP's 0 becomes real);
//   IPv4 ID advanced by the number of MSS segments before the chunk (unless fixed-ID);
//   TCP sequence advanced by the payload bytes before the chunk;
//   FIN and PSH only on the last chunk, CWR only on the first;
//   an IPv6 hop-by-hop jumbo option (RFC 2675) removed: chunks carry real lengths.
// For UDP segmentation (GSO_UDP_L4) the unit is gso_size and the transport fix-up is the UDP
// length of the chunk (no sequence, no flags); the IPv4 ID advances as for TCP, since the
// kernel's inet_gso_segment numbers UDP_L4 segments like TCP ones.
// A UDP tunnel (VXLAN/Geneve, GSO_UDP_TUNNEL_*, the kernel's skb_udp_tunnel_segment): the inner
// packet gets exactly the TCP fix-ups above, and the outer stack its own — outer IPv4 total
// length and ID (advanced as the inner one) or IPv6 payload length, and the outer UDP length.
// With P_nicTunnelLsoOff the NIC cannot segment tunnels: stage 1 then cuts one-MSS chunks and
// completes them in software (tunnel-software.ts), as the kernel falls back from GSO_PARTIAL to
// full software GSO.
// The payload is never copied: each chunk's SG entries reference its slice of guest memory.
// A packet that fits the NIC's limit is one chunk and goes through the same path unchanged.
//
// What it does not do: checksums (stage 2 computes every one from the segment's own headers).

import { MAX_SG, POOL_DATA_SIZE, RING_PHYS_TX, ringSlots } from "../shared/layout";
import { ringSlot } from "../shared/ring";
import * as D from "../shared/descriptors";
import { countAdd, C_stage1Chunks, C_superPackets, C_tunnelSuperPackets, C_usoSuperPackets } from "../shared/counters";
import { DROP_badMss, DROP_lsoTooManyChunks, DROP_tooManySegments, STATUS_OK } from "../shared/completion-status";
import { param, P_fixedId, P_nicMaxLso, P_nicTunnelLsoOff } from "../shared/params";
import { copyFromGuest, pagesSpanned } from "../shared/guest-memory";
import { copyAndParseHeaders } from "./header-copy";
import { poolBuffer, poolData } from "./tx-buffers";
import { buildSgList, sgTableFor } from "./sg-list";
import { curCsumOffset, curCsumStart, curGpa, curGsoSize, curGsoType, curHdrLen, curLen,
  writeCommonFields, writeRefusal } from "./descriptor-snapshot";
import { checkLargeSend, checkTunnelLargeSend, isTunnelLargeSend, isUdpLargeSend } from "./gso-check";
import { finishInSoftware } from "./tunnel-software";
import { PARSE_OK, parseHeaders, hdrIpVersion, hdrL2Len, hdrL4Offset, hdrTotalLen } from "../packet/headers";
import { parseTunnel, tunInnerL3, tunInnerL4, tunInnerVersion, tunOuterL3, tunOuterL4, tunOuterVersion,
  tunTotalLen } from "../packet/tunnel";
import { be16, be32, setBe16, setBe32 } from "../packet/bytes";
import { IPV4_ID, IPV4_TOTAL_LEN } from "../packet/ipv4";
import { IPV6_HEADER_LEN, IPV6_NEXT_HEADER, IPV6_PAYLOAD_LEN, NH_HOP_BY_HOP } from "../packet/ipv6";
import { TCP_CWR, TCP_FIN, TCP_FLAGS, TCP_PSH, TCP_SEQ } from "../packet/tcp";
import { UDP_LENGTH } from "../packet/udp";
import { tallyFrame } from "./burst-tally";

// The header template of the packet being split (per instance).
let hLen: u32 = 0; // header bytes each chunk carries
let l3: u32 = 0;
let l4: u32 = 0;
let ipVersion: u32 = 0;
let udp: bool = false; // GSO_UDP_L4: UDP fix-ups instead of TCP ones
let outerL3: u32 = 0; // a tunnel's outer IP header (0: no tunnel)
let outerL4: u32 = 0;
let outerVersion: u32 = 0;
let software: bool = false; // a tunnel the NIC cannot segment: stage 1 finishes every frame

/**
 * Stage 1 for the current descriptor (a large send whose range is already checked), into
 * physical slots from `physIndex` on, at most `room`. Returns slots used, 0 to wait.
 */
export function translateLargeSend(physIndex: u32, room: u32): u32 {
  const pd0 = ringSlot(RING_PHYS_TX, physIndex);
  const template = poolData(poolBuffer(physIndex));
  const parsed = copyAndParseHeaders(template, curGpa, curLen);
  const tunnel = isTunnelLargeSend(curGsoType);
  let status = tunnel ? checkTunnel(template, parsed)
    : checkLargeSend(template, parsed, curLen, curGsoType, curGsoSize, curHdrLen, curCsumStart, curCsumOffset);
  if (status != STATUS_OK) {
    writeRefusal(pd0, status);
    return 1;
  }
  const srcHeaders = tunnel ? tunTotalLen : hdrTotalLen;
  l3 = tunnel ? tunInnerL3 : hdrL2Len;
  l4 = tunnel ? tunInnerL4 : hdrL4Offset;
  ipVersion = tunnel ? tunInnerVersion : hdrIpVersion;
  outerL3 = tunnel ? tunOuterL3 : 0;
  outerL4 = tunnel ? tunOuterL4 : 0;
  outerVersion = tunnel ? tunOuterVersion : 0;
  software = tunnel && param(P_nicTunnelLsoOff) != 0;
  udp = isUdpLargeSend(curGsoType);
  hLen = srcHeaders;
  if (!tunnel && ipVersion == 6 && hasJumboHopByHop(template)) removeHopByHop(template);
  const payload = curLen - srcHeaders;
  const mss = curGsoSize;
  // The NIC's limit counts the IP packet (IP and TCP headers and payload, no Ethernet header or
  // tags), and no chunk may exceed what its own length field holds: the classic 64 KiB limit
  // is IPv4's 16-bit total length (IPv6: 40 + 65535). A packet that fits is one chunk.
  const ipHeaders = hLen - (tunnel ? outerL3 : l3);
  const fieldCap: u32 = (tunnel ? outerVersion : ipVersion) == 4 ? 65535 : IPV6_HEADER_LEN + 65535;
  const maxLso = param(P_nicMaxLso) < fieldCap ? param(P_nicMaxLso) : fieldCap;
  const perChunk: u32 = software ? 1 : ipHeaders + payload <= maxLso ? max<u32>(1, (payload + mss - 1) / mss)
    : maxLso > ipHeaders ? (maxLso - ipHeaders) / mss : 0; // k: MSS segments per chunk
  if (perChunk == 0) {
    writeRefusal(pd0, DROP_badMss);
    return 1;
  }
  const chunkBytes = perChunk * mss;
  const chunks = max<u32>(1, (payload + chunkBytes - 1) / chunkBytes); // no payload: one chunk
  if (chunks > ringSlots) {
    writeRefusal(pd0, DROP_lsoTooManyChunks);
    return 1;
  }
  if (chunks > room) return 0;
  if (pagesSpanned(curGpa + srcHeaders, chunkBytes < payload ? chunkBytes : payload) + 1 > MAX_SG) {
    writeRefusal(pd0, DROP_tooManySegments);
    return 1;
  }
  // Last chunk first: chunk 0's buffer holds the template until every other chunk has copied it.
  for (let c = <i32>chunks - 1; c >= 0; c--) {
    const offset = <u32>c * chunkBytes;
    const len = payload - offset < chunkBytes ? payload - offset : chunkBytes;
    emitChunk(physIndex + <u32>c, template, <u32>c, chunks, perChunk, offset, len, srcHeaders);
  }
  countAdd(C_superPackets, 1);
  if (udp) countAdd(C_usoSuperPackets, 1);
  if (outerL3 != 0) countAdd(C_tunnelSuperPackets, 1);
  if (chunks > 1) countAdd(C_stage1Chunks, chunks);
  return chunks;
}

function emitChunk(physIndex: u32, template: u32, c: u32, chunks: u32, perChunk: u32, offset: u32,
  len: u32, srcHeaders: u32): void {
  const pd = ringSlot(RING_PHYS_TX, physIndex);
  const buf = poolData(poolBuffer(physIndex));
  if (c != 0) memory.copy(buf, template, hLen);
  fixChunkHeader(buf, c * perChunk, offset, len, c == 0, c == chunks - 1);
  const table = sgTableFor(physIndex);
  const nsg = buildSgList(table, curGpa + srcHeaders + offset, len);
  writeCommonFields(pd, c == chunks - 1);
  store<u32>(pd + D.PD_STATUS, STATUS_OK);
  store<u32>(pd + D.PD_HDR_ADDR, buf);
  store<u16>(pd + D.PD_HDR_COPIED, <u16>hLen);
  store<u16>(pd + D.PD_NSG, <u16>nsg);
  store<u32>(pd + D.PD_SG_ADDR, table);
  store<u32>(pd + D.PD_TOTAL_LEN, hLen + len);
  store<u16>(pd + D.PD_PROTO_HDR_LEN, <u16>hLen);
  store<u16>(pd + D.PD_L3_OFFSET, <u16>l3);
  store<u16>(pd + D.PD_L4_OFFSET, <u16>l4);
  store<u8>(pd + D.PD_IP_VERSION, <u8>ipVersion);
  store<u16>(pd + D.PD_OUTER_L3, <u16>outerL3);
  store<u16>(pd + D.PD_OUTER_L4, <u16>outerL4);
  store<u8>(pd + D.PD_OUTER_IP_VERSION, <u8>outerVersion);
  if (software) finishInSoftware(pd, buf, hLen, table, nsg, len);
  tallyFrame(hLen, len);
}

/** The docs/design.md §5 fix-ups for a chunk whose payload starts `offset` bytes into the packet,
 *  after `segmentsBefore` MSS segments. */
function fixChunkHeader(h: u32, segmentsBefore: u32, offset: u32, len: u32, first: bool, last: bool): void {
  if (outerL3 != 0) fixOuterHeader(h, segmentsBefore, len);
  const ip = h + l3;
  if (ipVersion == 4) {
    setBe16(ip + IPV4_TOTAL_LEN, hLen - l3 + len);
    if (param(P_fixedId) == 0) setBe16(ip + IPV4_ID, be16(ip + IPV4_ID) + segmentsBefore);
  } else {
    setBe16(ip + IPV6_PAYLOAD_LEN, hLen - l3 - IPV6_HEADER_LEN + len);
  }
  if (udp) {
    setBe16(h + l4 + UDP_LENGTH, hLen - l4 + len);
    return;
  }
  const tcp = h + l4;
  setBe32(tcp + TCP_SEQ, be32(tcp + TCP_SEQ) + offset);
  let flags = <u32>load<u8>(tcp + TCP_FLAGS);
  if (!last) flags &= ~(TCP_FIN | TCP_PSH);
  if (!first) flags &= ~TCP_CWR;
  store<u8>(tcp + TCP_FLAGS, <u8>flags);
}

/** A tunnel's outer stack for a chunk of `len` payload bytes: IP length and ID, UDP length. */
function fixOuterHeader(h: u32, segmentsBefore: u32, len: u32): void {
  const ip = h + outerL3;
  if (outerVersion == 4) {
    setBe16(ip + IPV4_TOTAL_LEN, hLen - outerL3 + len);
    if (param(P_fixedId) == 0) setBe16(ip + IPV4_ID, be16(ip + IPV4_ID) + segmentsBefore);
  } else {
    setBe16(ip + IPV6_PAYLOAD_LEN, hLen - outerL3 - IPV6_HEADER_LEN + len);
  }
  setBe16(h + outerL4 + UDP_LENGTH, hLen - outerL4 + len);
}

/** Copies up to a pool buffer of the frame (a tunnel's inner headers run past the outer
 *  ones copyAndParseHeaders stopped at), then parses the inner stack and checks the request. */
function checkTunnel(template: u32, parsed: u32): u32 {
  const have = curLen < POOL_DATA_SIZE ? curLen : POOL_DATA_SIZE;
  let tunnel = false;
  if (parsed == PARSE_OK) {
    copyFromGuest(template, curGpa, have);
    tunnel = parseHeaders(template, have) == PARSE_OK && parseTunnel(template, have);
  }
  return checkTunnelLargeSend(template, tunnel, curLen, curGsoType, curGsoSize, curHdrLen, curCsumStart, curCsumOffset);
}

/** A hop-by-hop header right after the IPv6 header that is 8 bytes and holds the jumbo
 *  payload option (type 0xC2, length 4) — BIG TCP's only use of it (RFC 2675). */
function hasJumboHopByHop(h: u32): bool {
  const ip = h + l3;
  if (<u32>load<u8>(ip + IPV6_NEXT_HEADER) != NH_HOP_BY_HOP) return false;
  const hbh = ip + IPV6_HEADER_LEN;
  return load<u8>(hbh + 1) == 0 && load<u8>(hbh + 2) == 0xc2 && load<u8>(hbh + 3) == 4;
}

/** Removes the 8-byte hop-by-hop header from the template: the next header moves up. */
function removeHopByHop(h: u32): void {
  const ip = h + l3;
  const hbh = ip + IPV6_HEADER_LEN;
  store<u8>(ip + IPV6_NEXT_HEADER, load<u8>(hbh));
  memory.copy(hbh, hbh + 8, hLen - (l3 + IPV6_HEADER_LEN + 8));
  hLen -= 8;
  l4 -= 8;
}
