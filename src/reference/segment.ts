// One-stage TCP segmentation (TSO / GSO): a super-packet frame becomes MTU-sized frames.
// Segment i with MSS m carries payload [i·m, (i+1)·m); every header fix-up is in piece.ts.
// This is what stage 2 (the NIC) does to each chunk, and what Linux's software GSO
// (skb_segment + tcp_gso_segment + inet_gso_segment / ipv6_gso_segment) does to a gso skb.
//
// USO is uso.ts, VXLAN/Geneve tunnel.ts (which calls this on the inner frame). Not done: UFO,
// GRE, SCTP. A frame is one copy per
// segment; speed is the wasm core's business, readability is this file's.

import {
  LargeSend, LsoOptions, checkSegmentCount, emitPiece, prepareLargeSend, segmentCount, writeFullTcpChecksum,
} from "./piece.js";

/** Segments one TCP large send. Throws OffloadError (a named reason) for a bad request. */
export function segmentTcp(frame: Uint8Array, opts: LsoOptions): Uint8Array[] {
  return segmentPrepared(prepareLargeSend(frame, opts), opts);
}

/** Segments an already checked large send. */
export function segmentPrepared(ls: LargeSend, opts: LsoOptions): Uint8Array[] {
  const { mss } = opts;
  const total = ls.layout.payloadLen;
  const count = segmentCount(total, mss);
  checkSegmentCount(count, opts);
  const segments: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const offset = i * mss;
    const spec = { offset, length: Math.min(mss, total - offset), first: i === 0, last: i === count - 1, segmentsBefore: i };
    const seg = emitPiece(ls, spec, opts.fixedId ?? false);
    writeFullTcpChecksum(seg, ls);
    segments.push(seg);
  }
  return segments;
}
