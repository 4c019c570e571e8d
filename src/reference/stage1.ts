// LSO stage 1 (US 8,654,784 / 9,270,608): in the device backend, a large send bigger than the
// NIC accepts is cut into chunks of k·MSS payload (only the last may be short), each a complete
// large send of its own, so that stage 2 (segment.ts) over the chunks gives byte for byte what
// one-stage segmentation of the whole would.
//
// What "the NIC limit" counts: `nicMaxLso` bounds a chunk's IP packet — IP header (with
// options / extension headers, no jumbo option) + TCP header with options + payload — the
// quantity an IPv4 total length describes; the Ethernet header and VLAN tags are not counted.
// So the classic 65536 passes every packet a non-BIG-TCP stack posts (IPv4 total length
// ≤ 65535) untouched. Chunks always carry real lengths, so the limit is also capped at what the
// length field can say: 65535 for IPv4, 40 + 65535 for IPv6.
//
//   k = floor((limit − chunk IP header − TCP header) / MSS)   when the packet exceeds the limit
//
// Each chunk: IP length of its own; TCP seq advanced by the payload bytes before it; IPv4 ID
// advanced by the number of MSS segments before it (so stage 2's ID + i continues the series);
// FIN/PSH only on the last chunk, CWR only on the first; IPv4 header checksum valid; the TCP
// checksum field holds the pseudo-header seed a guest posts with NEEDS_CSUM.

import { OffloadError } from "./errors.js";
import { IPV6_HEADER_LEN } from "./headers.js";
import {
  LargeSend, LsoOptions, checkSegmentCount, emitPiece, prepareLargeSend, segmentCount, writeSeedTcpChecksum,
} from "./piece.js";

/** The classic NIC large-send limit: a 64 KiB IP packet. */
export const DEFAULT_NIC_MAX_LSO = 65536;
const MAX_IPV4_TOTAL_LENGTH = 0xffff;
const MAX_IPV6_PACKET = IPV6_HEADER_LEN + 0xffff;

export interface Stage1Options extends LsoOptions {
  /** Largest chunk IP packet the NIC accepts (see the file comment). Default 65536. */
  nicMaxLso?: number;
}

/** Payload bytes per chunk: the whole payload if it fits, else k·MSS. */
export function chunkPayloadSize(ls: LargeSend, opts: Stage1Options): number {
  const cap = ls.ipVersion === 4 ? MAX_IPV4_TOTAL_LENGTH : MAX_IPV6_PACKET;
  const limit = Math.min(opts.nicMaxLso ?? DEFAULT_NIC_MAX_LSO, cap);
  const headers = ls.ipHeaderLen + ls.tcpHeaderLen;
  const total = ls.layout.payloadLen;
  if (headers + total <= limit) return Math.max(total, 1);
  const k = Math.floor((limit - headers) / opts.mss);
  if (k < 1) throw new OffloadError("mssExceedsNicLimit", `${headers} header bytes + MSS ${opts.mss} > NIC limit ${limit}`);
  return k * opts.mss;
}

/** Splits one TCP large send into chunks the NIC accepts. Throws OffloadError for a bad request. */
export function stage1Split(frame: Uint8Array, opts: Stage1Options): Uint8Array[] {
  const ls = prepareLargeSend(frame, opts);
  const total = ls.layout.payloadLen;
  checkSegmentCount(segmentCount(total, opts.mss), opts);
  const size = chunkPayloadSize(ls, opts);
  const count = Math.max(1, Math.ceil(total / size));
  const chunks: Uint8Array[] = [];
  for (let j = 0; j < count; j++) {
    const offset = j * size;
    const spec = { offset, length: Math.min(size, total - offset), first: j === 0, last: j === count - 1, segmentsBefore: offset / opts.mss };
    const chunk = emitPiece(ls, spec, opts.fixedId ?? false);
    writeSeedTcpChecksum(chunk, ls);
    chunks.push(chunk);
  }
  return chunks;
}
