// What stage 1 (chunks) and stage 2 (segments) share: checking a large-send request, the header
// template every piece starts from, and the per-piece header fix-ups. The rules are docs/design.md §5;
// they are the ones Linux applies in tcp_gso_segment / inet_gso_segment / ipv6_gso_segment and
// DPDK in lib/gso (update_tcp_header, update_ipv4_header).

import { checksumOf, fold, internetChecksum, onesSum, pseudoHeaderSumV4, pseudoHeaderSumV6 } from "./checksum.js";
import { OffloadError } from "./errors.js";
import {
  IPV4_CHECKSUM, IPV4_ID, IPV4_TOTAL_LENGTH, IPV6_HEADER_LEN, IPV6_NEXT_HEADER, IPV6_PAYLOAD_LENGTH, JUMBO_HBH_LEN,
  EXT_NEXT_HEADER, copyOf, Layout, PROTO_TCP, TCP_CHECKSUM, TCP_CWR, TCP_FIN, TCP_FLAGS, TCP_PSH, TCP_RST, TCP_SEQ, TCP_SYN,
  TCP_URG, get16, get32, parseFrame, set16, set32,
} from "./headers.js";

/** Linux GSO_MAX_SEGS (a gso skb never has more segments); NICs often allow fewer. */
export const DEFAULT_MAX_SEGMENTS = 65535;

export interface LsoOptions {
  /** MSS: payload bytes per segment (virtio gso_size). */
  mss: number;
  /** Keep every piece's IPv4 ID equal to the super-packet's (Linux SKB_GSO_TCP_FIXEDID). */
  fixedId?: boolean;
  /** Largest number of MTU-sized segments one large send may make. Default 65535. */
  maxSegments?: number;
  /** Smallest MSS accepted. Default 1: Linux's tcp_gso_segment accepts any non-zero gso_size. */
  minMss?: number;
  /** When given, refuse an MSS whose segments (IP header + TCP header + MSS) exceed it. */
  mtu?: number;
}

/** A checked large send and the header template its pieces copy. */
export interface LargeSend {
  frame: Uint8Array;
  layout: Layout;
  /** Ethernet (+ VLAN) + IP (jumbo hop-by-hop header removed) + TCP header with options. */
  template: Uint8Array;
  /** Offsets inside the template (and inside every piece). */
  l3: number;
  l4: number;
  ipVersion: 4 | 6;
  /** IP header length in the pieces: a jumbo hop-by-hop header is not counted. */
  ipHeaderLen: number;
  tcpHeaderLen: number;
  seq0: number;
  id0: number;
  flags: number;
}

/** Builds the piece template: the frame's headers, minus an RFC 2675 jumbo hop-by-hop header,
 *  whose next-header value moves into the fixed header (Linux ipv6_hopopt_jumbo_remove). */
export function templateOf(frame: Uint8Array, layout: Layout): { template: Uint8Array; ipHeaderLen: number } {
  if (!layout.jumboHbh) return { template: copyOf(frame.subarray(0, layout.payload)), ipHeaderLen: layout.ipHeaderLen };
  const fixedEnd = layout.l3 + IPV6_HEADER_LEN;
  const template = new Uint8Array(layout.payload - JUMBO_HBH_LEN);
  template.set(frame.subarray(0, fixedEnd));
  template.set(frame.subarray(fixedEnd + JUMBO_HBH_LEN, layout.payload), fixedEnd);
  template[layout.l3 + IPV6_NEXT_HEADER] = frame[fixedEnd + EXT_NEXT_HEADER];
  return { template, ipHeaderLen: layout.ipHeaderLen - JUMBO_HBH_LEN };
}

/** Parses and checks a large-send (TSO) request; throws OffloadError with a named reason. */
export function prepareLargeSend(frame: Uint8Array, opts: LsoOptions): LargeSend {
  const layout = parseFrame(frame);
  if (layout.fragment) throw new OffloadError("ipv4Fragment", "a large send cannot be an IP fragment");
  if (layout.l4Proto !== PROTO_TCP) throw new OffloadError("notTcp", `IP protocol ${layout.l4Proto} in a large send`);
  const flags = frame[layout.l4 + TCP_FLAGS];
  // SYN and RST segments carry no bulk data; URG's pointer would be wrong in all but one
  // segment. Linux's tcp_gso_segment refuses SYN/RST/URG via its feature checks (SKB_GSO_TCP*).
  if (flags & (TCP_SYN | TCP_RST | TCP_URG)) throw new OffloadError("badTcpFlags", `TCP flags 0x${flags.toString(16)} in a large send`);
  const { template, ipHeaderLen } = templateOf(frame, layout);
  checkMss(opts, ipHeaderLen + layout.l4HeaderLen);
  return {
    frame, layout, template, ipHeaderLen, ipVersion: layout.ipVersion,
    l3: layout.l3, l4: layout.l3 + ipHeaderLen, tcpHeaderLen: layout.l4HeaderLen,
    seq0: get32(frame, layout.l4 + TCP_SEQ),
    id0: layout.ipVersion === 4 ? get16(frame, layout.l3 + IPV4_ID) : 0,
    flags,
  };
}

function checkMss(opts: LsoOptions, headers: number): void {
  const { mss, minMss = 1, mtu } = opts;
  if (!Number.isInteger(mss) || mss <= 0) throw new OffloadError("mssZero", `MSS ${mss}`);
  if (mss < minMss) throw new OffloadError("mssTooSmall", `MSS ${mss} < minimum ${minMss}`);
  if (mtu !== undefined && headers + mss > mtu) throw new OffloadError("mssExceedsMtu", `${headers} header bytes + MSS ${mss} > MTU ${mtu}`);
}

/** Number of segments a payload makes: ⌈len / mss⌉, and one header-only segment for no payload. */
export function segmentCount(payloadLen: number, mss: number): number {
  return Math.max(1, Math.ceil(payloadLen / mss));
}

export function checkSegmentCount(count: number, opts: LsoOptions): void {
  const max = opts.maxSegments ?? DEFAULT_MAX_SEGMENTS;
  if (count > max) throw new OffloadError("tooManySegments", `${count} segments > ${max}`);
}

export interface PieceSpec {
  /** First payload byte of this piece, counted from the start of the super-packet's payload. */
  offset: number;
  length: number;
  first: boolean;
  last: boolean;
  /** How many MSS segments come before this piece: its IPv4 ID advance. */
  segmentsBefore: number;
}

/** What every large send's piece starts as, TCP or UDP: its template, its payload slice, and its
 *  IP header fixed up (IPv4 total length, ID — +1 per MSS segment before it unless fixed — and
 *  header checksum; or IPv6 payload length). */
export function emitIpPiece(
  ls: Pick<LargeSend, "frame" | "layout" | "template" | "l3" | "ipVersion" | "ipHeaderLen" | "id0">, spec: PieceSpec, fixedId: boolean,
): Uint8Array {
  const out = new Uint8Array(ls.template.length + spec.length);
  out.set(ls.template);
  const from = ls.layout.payload + spec.offset;
  out.set(ls.frame.subarray(from, from + spec.length), ls.template.length);
  if (ls.ipVersion === 4) fixIpv4(out, ls, fixedId ? ls.id0 : (ls.id0 + spec.segmentsBefore) & 0xffff);
  else set16(out, ls.l3 + IPV6_PAYLOAD_LENGTH, out.length - ls.l3 - IPV6_HEADER_LEN);
  return out;
}

/** One piece (chunk or segment): the template, its payload slice, and the fixed-up IP and TCP
 *  headers. Its TCP checksum field is left for the caller (seed for chunks, full for segments). */
export function emitPiece(ls: LargeSend, spec: PieceSpec, fixedId: boolean): Uint8Array {
  const out = emitIpPiece(ls, spec, fixedId);
  // seq advances by the payload bytes before the piece, mod 2^32 (RFC 9293 §3.4).
  set32(out, ls.l4 + TCP_SEQ, (ls.seq0 + spec.offset) >>> 0);
  out[ls.l4 + TCP_FLAGS] = pieceFlags(ls.flags, spec.first, spec.last);
  return out;
}

/** FIN and PSH belong to the last byte, so only the last piece keeps them; CWR acknowledges
 *  ECE once, so only the first keeps it (RFC 3168 §6.1.2; Linux tcp_gso_segment). */
export function pieceFlags(flags: number, first: boolean, last: boolean): number {
  let f = flags;
  if (!last) f &= ~(TCP_FIN | TCP_PSH);
  if (!first) f &= ~TCP_CWR;
  return f;
}

/** IPv4 total length, ID, and the header checksum over the piece's own header (RFC 791). */
export function fixIpv4(out: Uint8Array, ls: Pick<LargeSend, "l3" | "ipHeaderLen">, id: number): void {
  set16(out, ls.l3 + IPV4_TOTAL_LENGTH, out.length - ls.l3);
  set16(out, ls.l3 + IPV4_ID, id);
  set16(out, ls.l3 + IPV4_CHECKSUM, 0);
  set16(out, ls.l3 + IPV4_CHECKSUM, internetChecksum(out, ls.l3, ls.l3 + ls.ipHeaderLen));
}

/** Pseudo-header sum rebuilt from the piece's own IP header and length — never the guest's seed. */
export function piecePseudoSum(out: Uint8Array, ls: LargeSend): number {
  const tcpLength = out.length - ls.l4;
  return ls.ipVersion === 4
    ? pseudoHeaderSumV4(out, ls.l3, PROTO_TCP, tcpLength)
    : pseudoHeaderSumV6(out, ls.l3, PROTO_TCP, tcpLength);
}

/** Full TCP checksum (what goes on the wire). Like Linux's gso_make_checksum, a result of 0 is
 *  written as 0 (no 0xffff substitution; that is only skb_checksum_help's habit). */
export function writeFullTcpChecksum(out: Uint8Array, ls: LargeSend): void {
  set16(out, ls.l4 + TCP_CHECKSUM, 0);
  set16(out, ls.l4 + TCP_CHECKSUM, checksumOf(onesSum(out, ls.l4, out.length, piecePseudoSum(out, ls))));
}

/** The partial checksum a guest posts with NEEDS_CSUM: the folded pseudo-header sum, not
 *  complemented (Linux: th->check = ~tcp_v4_check(len, saddr, daddr, 0)). */
export function writeSeedTcpChecksum(out: Uint8Array, ls: LargeSend): void {
  set16(out, ls.l4 + TCP_CHECKSUM, fold(piecePseudoSum(out, ls)));
}
