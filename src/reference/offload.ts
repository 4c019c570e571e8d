// The capture path of the reference: what the datapath does to one frame read from a capture.
// A TCP frame whose IP packet is longer than the MTU is a large send (stage 1, then stage 2 on
// each chunk); so is a UDP datagram (USO, uso.ts) and a VXLAN/Geneve frame with inner TCP
// (tunnel.ts); any other TCP/UDP frame gets checksum offload (a tunnel's on its inner L4);
// everything else goes out verbatim.

import { checksumOffload, checksumRequest } from "./csum.js";
import { PROTO_TCP, PROTO_UDP, TCP_FLAGS, TCP_RST, TCP_SYN, TCP_URG, UDP_HEADER_LEN, copyOf, parseEthernet, parseFrame } from "./headers.js";
import { OffloadError } from "./errors.js";
import { templateOf } from "./piece.js";
import { segmentTcp } from "./segment.js";
import { Stage1Options, stage1Split } from "./stage1.js";
import { TunnelOptions, parseTunnel, segmentTunnel, stage1SplitTunnel } from "./tunnel.js";
import { segmentUdp, stage1SplitUdp } from "./uso.js";

export interface OffloadOptions {
  /** IP MTU of the wire (the Ethernet header and VLAN tags are not counted). */
  mtu: number;
  /** MSS for large sends; default: defaultMss(frame, mtu). */
  mss?: number;
  /** Stage-1 NIC limit (see stage1.ts); default 65536. */
  nicMaxLso?: number;
  fixedId?: boolean;
  maxSegments?: number;
  minMss?: number;
  /** Complete TCP/UDP checksums of frames that need no segmentation (default true). */
  csumOffload?: boolean;
  /** USO gso_size (default: mss, else MTU − IP header − 8; the datapath's guest also learns it
   *  per flow, assembly/guest/udp-flows.ts, which a one-frame function cannot). */
  udpGsoSize?: number;
  vxlanPort?: number;
  genevePort?: number;
  /** The NIC cannot segment tunnels (--nic-tunnel-lso off): one stage, all in software. */
  nicTunnelLsoOff?: boolean;
}

/** What happened to one frame: a discriminated union, so callers count by kind. */
export type OffloadResult =
  | { kind: "segmented"; chunks: number; frames: Uint8Array[] }
  | { kind: "checksummed"; frames: [Uint8Array] }
  | { kind: "verbatim"; frames: [Uint8Array] };

/** The MSS a Linux sender would use at this MTU: mtu − IP header − TCP header of the packet
 *  itself (options included, a jumbo hop-by-hop header not). This is what tcp_mtu_to_mss puts in
 *  mss_cache (the TCP header length with the options the connection sends, e.g. timestamps). */
export function defaultMss(frame: Uint8Array, mtu: number): number {
  const layout = parseFrame(frame);
  const { ipHeaderLen } = templateOf(frame, layout);
  return mtu - ipHeaderLen - layout.l4HeaderLen;
}

/** True when the frame's IP packet (or, for non-IP, its payload) is longer than the MTU. */
export function isLargeSend(frame: Uint8Array, mtu: number): boolean {
  return frame.length - parseEthernet(frame).l3 > mtu;
}

function hasUnsegmentableFlags(frame: Uint8Array): boolean {
  let layout;
  try {
    layout = parseFrame(frame);
  } catch {
    return false; // not parsable as TCP: stage 1 names what is wrong
  }
  return layout.l4Proto === PROTO_TCP && (frame[layout.l4 + TCP_FLAGS] & (TCP_SYN | TCP_RST | TCP_URG)) !== 0;
}

/** Runs one capture frame through the reference datapath: stage 1 + stage 2, or checksum
 *  offload, or verbatim. Throws OffloadError (a named reason) for a bad large send. */
export function offloadFrame(frame: Uint8Array, opts: OffloadOptions): OffloadResult {
  if (isLargeSend(frame, opts.mtu)) {
    const layout = parseFrame(frame);
    const tunnel = layout.l4Proto === PROTO_UDP && !layout.fragment ? parseTunnel(frame, opts) : null;
    if (tunnel) return offloadTunnel(frame, opts, tunnel.inner + parseFrame(frame.subarray(tunnel.inner)).payload - tunnel.outerL3);
    if (layout.l4Proto === PROTO_UDP) {
      const mss = opts.udpGsoSize ?? opts.mss ?? opts.mtu - layout.ipHeaderLen - UDP_HEADER_LEN;
      const stage = { ...opts, mss };
      const chunks = stage1SplitUdp(frame, stage);
      return { kind: "segmented", chunks: chunks.length, frames: chunks.flatMap((c) => segmentUdp(c, stage)) };
    }
    // A SYN, RST or URG segment is never a large send (Linux's tcp_gso_segment refuses them):
    // the guest posts it as it is and the NIC drops it as longer than the MTU.
    if (hasUnsegmentableFlags(frame)) throw new OffloadError("oversize", `a ${frame.length}-byte SYN/RST/URG segment exceeds the MTU ${opts.mtu}`);
    const mss = opts.mss ?? defaultMss(frame, opts.mtu);
    const stage: Stage1Options = { ...opts, mss };
    const chunks = stage1Split(frame, stage);
    return { kind: "segmented", chunks: chunks.length, frames: chunks.flatMap((c) => segmentTcp(c, stage)) };
  }
  if (opts.csumOffload ?? true) {
    const out = checksumOffload(frame);
    return checksumRequest(frame) ? { kind: "checksummed", frames: [out] } : { kind: "verbatim", frames: [out] };
  }
  return { kind: "verbatim", frames: [copyOf(frame)] };
}

/** A tunnelled TCP large send; `headers` = bytes from the outer IP header through the inner TCP
 *  header, so the default MSS is what the inner device's MTU leaves. */
function offloadTunnel(frame: Uint8Array, opts: OffloadOptions & TunnelOptions, headers: number): OffloadResult {
  const mss = opts.mss ?? opts.mtu - headers;
  const stage = { ...opts, mss };
  if (opts.nicTunnelLsoOff) {
    const frames = segmentTunnel(frame, stage);
    return { kind: "segmented", chunks: frames.length, frames };
  }
  const chunks = stage1SplitTunnel(frame, stage);
  return { kind: "segmented", chunks: chunks.length, frames: chunks.flatMap((c) => segmentTunnel(c, stage)) };
}
