// Checksum offload for a frame that needs no segmentation: what a NIC does for a virtio
// NEEDS_CSUM request (virtio 1.2 §5.1.6.2: "the checksum from csum_start to the end of the
// packet, stored at csum_start + csum_offset"), and what Linux's skb_checksum_help does in
// software when the device has tx-checksumming off.

import { checksumOf, internetChecksum, onesSum, pseudoHeaderSumV4, pseudoHeaderSumV6 } from "./checksum.js";
import { OffloadError } from "./errors.js";
import { copyOf, get16, Layout, PROTO_TCP, PROTO_UDP, TCP_CHECKSUM, UDP_CHECKSUM, parseFrame, set16 } from "./headers.js";
import { parseTunnel } from "./tunnel.js";

/** The offload fields of struct virtio_net_hdr for a NEEDS_CSUM request. */
export interface ChecksumRequest {
  csumStart: number;
  csumOffset: number;
}

/** RFC 768: a computed UDP checksum of 0 goes on the wire as 0xffff (the same value in
 *  ones'-complement; 0 would mean "no checksum"). A TCP checksum of 0 stays 0x0000, as the
 *  segments (piece.ts) write it: single frames and segments agree. Decided by the checksum
 *  field's offset, the only thing a NEEDS_CSUM request tells the NIC. */
const mangleZero = (c: number, csumOffset: number): number => (c === 0 && csumOffset === UDP_CHECKSUM ? 0xffff : c);

function checksumField(layout: Layout, frame: Uint8Array): number | null {
  if (layout.fragment) return null; // a fragment's checksum covers bytes we do not have
  if (layout.l4Proto === PROTO_TCP) return TCP_CHECKSUM;
  // A UDP checksum of 0 is "none" (RFC 768), over IPv6 too for tunnels (RFC 6935): no request.
  if (layout.l4Proto === PROTO_UDP) return get16(frame, layout.l4 + UDP_CHECKSUM) === 0 ? null : UDP_CHECKSUM;
  return null;
}

/** A VXLAN/Geneve frame whose inner packet is TCP/UDP: its checksum request is on the inner L4
 *  (the outer UDP checksum is the sender's local checksum offload value and stays). */
function innerOf(frame: Uint8Array): number {
  let t;
  try {
    t = parseTunnel(frame);
  } catch (e) {
    if (e instanceof OffloadError) return 0;
    throw e;
  }
  if (!t) return 0;
  const inner = tryParse(frame.subarray(t.inner));
  return inner && (inner.l4Proto === PROTO_TCP || inner.l4Proto === PROTO_UDP) ? t.inner : 0;
}

function tryParse(frame: Uint8Array): Layout | null {
  try {
    return parseFrame(frame);
  } catch (e) {
    if (e instanceof OffloadError) return null;
    throw e;
  }
}

/** The NEEDS_CSUM request a guest with tx-checksumming on posts for this frame, or null when the
 *  frame is not an unfragmented TCP/UDP packet we can parse (it then goes out verbatim). */
export function checksumRequest(frame: Uint8Array): ChecksumRequest | null {
  const base = innerOf(frame);
  const view = frame.subarray(base);
  const layout = tryParse(view);
  const field = layout && checksumField(layout, view);
  return layout && field !== null ? { csumStart: base + layout.l4, csumOffset: field } : null;
}

/** virtio NEEDS_CSUM, literally: sum frame[csumStart, end) — which includes the guest's
 *  pseudo-header seed sitting in the checksum field — and store its complement there. Trusts the
 *  seed by definition; returns a new frame. */
export function completeChecksum(frame: Uint8Array, req: ChecksumRequest): Uint8Array {
  const out = copyOf(frame);
  set16(out, req.csumStart + req.csumOffset, mangleZero(internetChecksum(out, req.csumStart, out.length), req.csumOffset));
  return out;
}

/** Checksum offload as the NIC model applies it: the TCP/UDP checksum computed from scratch with
 *  the pseudo-header rebuilt from the frame's own IP header (never the guest's seed). Equal to
 *  completeChecksum when the seed is right, and a frame that already has its full checksum comes
 *  out unchanged. Frames that are not TCP/UDP come back as an unchanged copy. */
export function checksumOffload(frame: Uint8Array): Uint8Array {
  const whole = copyOf(frame);
  const out = whole.subarray(innerOf(frame)); // a tunnel's inner frame, in place
  const layout = tryParse(out);
  const field = layout && checksumField(layout, out);
  if (!layout || field === null) return whole;
  const at = layout.l4 + field;
  const length = layout.ipEnd - layout.l4;
  const pseudo = layout.ipVersion === 4
    ? pseudoHeaderSumV4(out, layout.l3, layout.l4Proto, length)
    : pseudoHeaderSumV6(out, layout.l3, layout.l4Proto, length);
  set16(out, at, 0);
  set16(out, at, mangleZero(checksumOf(onesSum(out, layout.l4, layout.ipEnd, pseudo)), field));
  return whole;
}
