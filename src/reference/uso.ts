// UDP segmentation offload (USO: virtio GSO_UDP_L4, virtio 1.2 §5.1.6.2; Linux UDP_SEGMENT and
// SKB_GSO_UDP_L4): a UDP datagram longer than the MTU becomes datagrams of gso_size payload
// bytes (the last may be short), as the kernel's __udp_gso_segment (net/ipv4/udp_offload.c)
// cuts it. Each piece: IPv4 total length, ID (+1 per segment, as inet_gso_segment numbers
// UDP_L4 segments like TCP ones) and header checksum, or IPv6 payload length; its own UDP
// length; a full UDP checksum over its own pseudo-header, where a computed 0 goes out as 0xffff
// (RFC 768: 0 means "no checksum" — UDP's rule only, TCP keeps 0). Stage 1 chunks (k·gso_size)
// carry the pseudo-header seed in the checksum field, as a guest posts NEEDS_CSUM.

import { checksumOf, fold, onesSum, pseudoHeaderSumV4, pseudoHeaderSumV6 } from "./checksum.js";
import { OffloadError } from "./errors.js";
import {
  IPV4_ID, IPV6_HEADER_LEN, Layout, PROTO_UDP, UDP_CHECKSUM, UDP_HEADER_LEN, UDP_LENGTH, copyOf, get16,
  parseFrame, set16,
} from "./headers.js";
import { LsoOptions, PieceSpec, checkSegmentCount, emitIpPiece, segmentCount } from "./piece.js";
import { DEFAULT_NIC_MAX_LSO, Stage1Options } from "./stage1.js";

/** A checked UDP large send. */
export interface UdpLargeSend {
  frame: Uint8Array;
  layout: Layout;
  template: Uint8Array; // Ethernet (+ tags) + IP + UDP header
  l3: number;
  l4: number;
  ipVersion: 4 | 6;
  ipHeaderLen: number;
  id0: number;
}

/** Parses and checks a USO request; throws OffloadError with a named reason. */
export function prepareUdpLargeSend(frame: Uint8Array, opts: LsoOptions): UdpLargeSend {
  const layout = parseFrame(frame);
  if (layout.fragment) throw new OffloadError("ipv4Fragment", "a large send cannot be an IP fragment");
  if (layout.l4Proto !== PROTO_UDP) throw new OffloadError("notUdp", `IP protocol ${layout.l4Proto} in a UDP large send`);
  const { mss, mtu } = opts;
  if (!Number.isInteger(mss) || mss <= 0) throw new OffloadError("mssZero", `gso_size ${mss}`);
  if (mtu !== undefined && layout.ipHeaderLen + UDP_HEADER_LEN + mss > mtu) throw new OffloadError("mssExceedsMtu", `gso_size ${mss} over MTU ${mtu}`);
  if (layout.ipEnd - layout.l4 > 0xffff) throw new OffloadError("udpTooLong", `a UDP datagram of ${layout.ipEnd - layout.l4} bytes`);
  return {
    frame, layout, template: copyOf(frame.subarray(0, layout.payload)), l3: layout.l3, l4: layout.l4,
    ipVersion: layout.ipVersion, ipHeaderLen: layout.ipHeaderLen,
    id0: layout.ipVersion === 4 ? get16(frame, layout.l3 + IPV4_ID) : 0,
  };
}

/** One piece: template + payload slice with IP and UDP length fixed; checksum left to the caller. */
export function emitUdpPiece(ls: UdpLargeSend, spec: PieceSpec, fixedId: boolean): Uint8Array {
  const out = emitIpPiece(ls, spec, fixedId);
  set16(out, ls.l4 + UDP_LENGTH, out.length - ls.l4);
  return out;
}

function udpPseudoSum(out: Uint8Array, ls: UdpLargeSend): number {
  const len = out.length - ls.l4;
  return ls.ipVersion === 4 ? pseudoHeaderSumV4(out, ls.l3, PROTO_UDP, len) : pseudoHeaderSumV6(out, ls.l3, PROTO_UDP, len);
}

/** The UDP checksum on the wire: 0 becomes 0xffff (RFC 768; udp_v4_check's CSUM_MANGLED_0). */
export function udpWireChecksum(value: number): number {
  return value === 0 ? 0xffff : value;
}

export function writeFullUdpChecksum(out: Uint8Array, ls: UdpLargeSend): void {
  set16(out, ls.l4 + UDP_CHECKSUM, 0);
  set16(out, ls.l4 + UDP_CHECKSUM, udpWireChecksum(checksumOf(onesSum(out, ls.l4, out.length, udpPseudoSum(out, ls)))));
}

/** One-stage USO: the datagram's gso_size segments. */
export function segmentUdp(frame: Uint8Array, opts: LsoOptions): Uint8Array[] {
  const ls = prepareUdpLargeSend(frame, opts);
  const total = ls.layout.payloadLen;
  const count = segmentCount(total, opts.mss);
  checkSegmentCount(count, opts);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const offset = i * opts.mss;
    const seg = emitUdpPiece(ls, { offset, length: Math.min(opts.mss, total - offset), first: i === 0, last: i === count - 1, segmentsBefore: i }, opts.fixedId ?? false);
    writeFullUdpChecksum(seg, ls);
    out.push(seg);
  }
  return out;
}

/** Stage 1 for USO: chunks of k·gso_size payload under the NIC limit (as stage1Split counts it). */
export function stage1SplitUdp(frame: Uint8Array, opts: Stage1Options): Uint8Array[] {
  const ls = prepareUdpLargeSend(frame, opts);
  const total = ls.layout.payloadLen;
  checkSegmentCount(segmentCount(total, opts.mss), opts);
  const cap = ls.ipVersion === 4 ? 0xffff : IPV6_HEADER_LEN + 0xffff;
  const limit = Math.min(opts.nicMaxLso ?? DEFAULT_NIC_MAX_LSO, cap);
  const headers = ls.ipHeaderLen + UDP_HEADER_LEN;
  let size = Math.max(total, 1);
  if (headers + total > limit) {
    const k = Math.floor((limit - headers) / opts.mss);
    if (k < 1) throw new OffloadError("mssExceedsNicLimit", `${headers} header bytes + gso_size ${opts.mss} > NIC limit ${limit}`);
    size = k * opts.mss;
  }
  const count = Math.max(1, Math.ceil(total / size));
  const chunks: Uint8Array[] = [];
  for (let j = 0; j < count; j++) {
    const offset = j * size;
    const chunk = emitUdpPiece(ls, { offset, length: Math.min(size, total - offset), first: j === 0, last: j === count - 1, segmentsBefore: offset / opts.mss }, opts.fixedId ?? false);
    set16(chunk, ls.l4 + UDP_CHECKSUM, fold(udpPseudoSum(chunk, ls)));
    chunks.push(chunk);
  }
  return chunks;
}
