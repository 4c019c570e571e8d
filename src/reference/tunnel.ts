// UDP tunnel large sends (VXLAN RFC 7348 on UDP 4789, Geneve RFC 8926 on 6081; virtio
// GSO_UDP_TUNNEL_IPV4/IPV6 [+ _CSUM]; Linux SKB_GSO_UDP_TUNNEL[_CSUM], skb_udp_tunnel_segment in
// net/ipv4/udp_offload.c). The inner Ethernet frame is segmented exactly as plain TCP
// (segment.ts / stage1.ts, unchanged); every piece then gets the outer headers back with its
// own outer IPv4 total length, ID (+1 per segment) and header checksum, or IPv6 payload
// length, its outer UDP length and — when the sender set an outer UDP checksum — a full outer
// UDP checksum over the piece (0 sent as 0xffff). A zero outer checksum stays zero.

import { checksumOf, onesSum, pseudoHeaderSumV4, pseudoHeaderSumV6 } from "./checksum.js";
import { OffloadError } from "./errors.js";
import {
  IPV4_ID, IPV6_HEADER_LEN, IPV6_PAYLOAD_LENGTH, PROTO_UDP, TCP_SEQ, UDP_CHECKSUM, UDP_HEADER_LEN, UDP_LENGTH, get16, get32,
  parseEthernet, parseFrame, set16,
} from "./headers.js";
import { LsoOptions, fixIpv4 } from "./piece.js";
import { segmentTcp } from "./segment.js";
import { DEFAULT_NIC_MAX_LSO, Stage1Options, stage1Split } from "./stage1.js";
import { udpWireChecksum } from "./uso.js";

export const VXLAN_PORT = 4789;
export const GENEVE_PORT = 6081;
const VXLAN_HEADER_LEN = 8;
const GENEVE_BASE_LEN = 8;
const ETH_P_TEB = 0x6558;

export interface TunnelOptions {
  vxlanPort?: number;
  genevePort?: number;
}

export interface TunnelLayout {
  outerL3: number;
  outerL4: number;
  outerVersion: 4 | 6;
  /** Offset of the inner Ethernet header. */
  inner: number;
  /** The sender set an outer UDP checksum (non-zero field): segments get a computed one. */
  outerCsum: boolean;
}

/** The tunnel around a frame, or null when its outer UDP is no VXLAN/Geneve with inner Ethernet. */
export function parseTunnel(frame: Uint8Array, opts: TunnelOptions = {}): TunnelLayout | null {
  const outer = parseFrame(frame);
  if (outer.l4Proto !== PROTO_UDP || outer.fragment) return null;
  const port = get16(frame, outer.l4 + 2);
  const base = outer.l4 + UDP_HEADER_LEN;
  let inner: number;
  if (port === (opts.vxlanPort ?? VXLAN_PORT)) inner = base + VXLAN_HEADER_LEN;
  else if (port === (opts.genevePort ?? GENEVE_PORT) && base + GENEVE_BASE_LEN <= frame.length
    && frame[base] >> 6 === 0 && get16(frame, base + 2) === ETH_P_TEB) inner = base + GENEVE_BASE_LEN + (frame[base] & 0x3f) * 4;
  else return null;
  if (inner >= frame.length) return null;
  return { outerL3: outer.l3, outerL4: outer.l4, outerVersion: outer.ipVersion, inner, outerCsum: get16(frame, outer.l4 + UDP_CHECKSUM) !== 0 };
}

function requireTunnel(frame: Uint8Array, opts: TunnelOptions): TunnelLayout {
  const t = parseTunnel(frame, opts);
  if (!t) throw new OffloadError("notTunnel", "no VXLAN/Geneve header with an inner Ethernet frame");
  return t;
}

/** Bytes from the outer IP header to the inner IP header: what the inner packet's limits lose. */
function outerOverhead(frame: Uint8Array, t: TunnelLayout): number {
  return t.inner + parseEthernet(frame.subarray(t.inner)).l3 - t.outerL3;
}

/** The outer headers around one inner piece, fixed for it (outer ID `id`). */
function wrap(frame: Uint8Array, t: TunnelLayout, piece: Uint8Array, id: number, csum: boolean): Uint8Array {
  const out = new Uint8Array(t.inner + piece.length);
  out.set(frame.subarray(0, t.inner));
  out.set(piece, t.inner);
  if (t.outerVersion === 4) {
    const ihl = (frame[t.outerL3] & 0x0f) * 4;
    fixIpv4(out, { l3: t.outerL3, ipHeaderLen: ihl }, id);
  } else {
    set16(out, t.outerL3 + IPV6_PAYLOAD_LENGTH, out.length - t.outerL3 - IPV6_HEADER_LEN);
  }
  const udpLen = out.length - t.outerL4;
  set16(out, t.outerL4 + UDP_LENGTH, udpLen);
  if (csum) {
    set16(out, t.outerL4 + UDP_CHECKSUM, 0);
    const pseudo = t.outerVersion === 4 ? pseudoHeaderSumV4(out, t.outerL3, PROTO_UDP, udpLen) : pseudoHeaderSumV6(out, t.outerL3, PROTO_UDP, udpLen);
    set16(out, t.outerL4 + UDP_CHECKSUM, udpWireChecksum(checksumOf(onesSum(out, t.outerL4, out.length, pseudo))));
  }
  return out;
}

/** One-stage segmentation of a tunnelled TCP large send. `mss` is the inner TCP payload per
 *  segment; `mtu`, when given, bounds the outer IP packet. */
export function segmentTunnel(frame: Uint8Array, opts: LsoOptions & TunnelOptions): Uint8Array[] {
  const t = requireTunnel(frame, opts);
  const inner = frame.subarray(t.inner);
  const mtu = opts.mtu === undefined ? undefined : opts.mtu - outerOverhead(frame, t);
  const id0 = t.outerVersion === 4 ? get16(frame, t.outerL3 + IPV4_ID) : 0;
  return segmentTcp(inner, { ...opts, mtu }).map((seg, i) =>
    wrap(frame, t, seg, opts.fixedId ? id0 : (id0 + i) & 0xffff, t.outerCsum));
}

/** Stage 1 for a tunnel: the inner packet's chunks (the NIC limit counts the outer IP packet),
 *  each wrapped in outer headers whose ID advanced by the segments before it. */
export function stage1SplitTunnel(frame: Uint8Array, opts: Stage1Options & TunnelOptions): Uint8Array[] {
  const t = requireTunnel(frame, opts);
  const inner = frame.subarray(t.inner);
  const overhead = outerOverhead(frame, t);
  const cap = t.outerVersion === 4 ? 0xffff : IPV6_HEADER_LEN + 0xffff;
  const limit = Math.min(opts.nicMaxLso ?? DEFAULT_NIC_MAX_LSO, cap) - overhead;
  const mtu = opts.mtu === undefined ? undefined : opts.mtu - overhead;
  const innerL4 = parseFrame(inner).l4;
  const seq0 = get32(inner, innerL4 + TCP_SEQ);
  const id0 = t.outerVersion === 4 ? get16(frame, t.outerL3 + IPV4_ID) : 0;
  // A limit the outer headers already fill: not even one MSS fits a chunk.
  if (limit <= 0) throw new OffloadError("mssExceedsNicLimit", `outer headers ${overhead} B fill the NIC limit`);
  return stage1Split(inner, { ...opts, mtu, nicMaxLso: limit }).map((chunk) => {
    const before = ((get32(chunk, innerL4 + TCP_SEQ) - seq0) >>> 0) / opts.mss;
    return wrap(frame, t, chunk, opts.fixedId ? id0 : (id0 + before) & 0xffff, false);
  });
}
