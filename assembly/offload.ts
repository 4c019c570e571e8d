// Checks a large-send request (virtio_net_hdr with a gso_type) against the headers the device
// parsed from its own copy. The guest's fields are hints the device verifies, never trusts:
// every refusal is a named drop reason, and the descriptor still completes.
//
// What it does not accept: UDP fragmentation offload (GSO_UDP) and UDP segmentation (UDP_L4)
// are refused as lsoNotTcp; tunnels (VXLAN/Geneve) are segmented only by their outer stack,
// which has no TCP header, so they are refused as lsoUnparsed.

import * as D from "./descriptors";
import { DROP_badCsumStart, DROP_badHdrLen, DROP_badMss, DROP_headersBeyondFrame, DROP_headersTooLong,
  DROP_lsoBadFlags, DROP_lsoFragment, DROP_lsoNotTcp, DROP_lsoTooManySegments,
  DROP_lsoTypeMismatch, DROP_lsoUnparsed, STATUS_OK } from "./counters";
import { POOL_DATA_SIZE } from "./layout";
import { param, P_maxSegments } from "./params";
import { hdrIpVersion, hdrL2Len, hdrL4Offset, hdrL4Proto, hdrTotalLen } from "./wire/headers";
import { ipv4IsFragment } from "./wire/ipv4";
import { ipv6Fragmented } from "./wire/ipv6";
import { IPPROTO_TCP, TCP_CHECKSUM, TCP_FLAGS, TCP_RST, TCP_SYN, TCP_URG } from "./wire/tcp";

/** Is this gso_type a large send at all (anything but NONE, the ECN bit aside)? */
// @ts-ignore: decorator
@inline export function isLargeSend(gsoType: u32): bool {
  return (gsoType & ~D.VIRTIO_NET_HDR_GSO_ECN) != D.VIRTIO_NET_HDR_GSO_NONE;
}

/**
 * Validates a large send whose headers were parsed (parse status `parsed`) from the device's
 * copy at `hdr`. Call right after parseHeaders: it reads the hdr* results.
 */
export function checkLargeSend(hdr: u32, parsed: u32, frameLen: u32, gsoType: u32, gsoSize: u32,
  hdrLen: u32, csumStart: u32, csumOffset: u32): u32 {
  const kind = gsoType & ~D.VIRTIO_NET_HDR_GSO_ECN;
  if (kind != D.VIRTIO_NET_HDR_GSO_TCPV4 && kind != D.VIRTIO_NET_HDR_GSO_TCPV6) return DROP_lsoNotTcp;
  if (hdrLen > frameLen || csumStart + csumOffset + 2 > frameLen) return DROP_headersBeyondFrame;
  if (parsed != 0 || hdrL4Offset == 0 || hdrL4Proto != IPPROTO_TCP) return DROP_lsoUnparsed;
  if (hdrTotalLen > POOL_DATA_SIZE) return DROP_headersTooLong;
  if ((kind == D.VIRTIO_NET_HDR_GSO_TCPV4) != (hdrIpVersion == 4)) return DROP_lsoTypeMismatch;
  if (hdrIpVersion == 4 ? ipv4IsFragment(hdr + hdrL2Len) : ipv6Fragmented) return DROP_lsoFragment;
  if (hdrLen < hdrTotalLen) return DROP_badHdrLen;
  if (csumStart != hdrL4Offset || csumOffset != TCP_CHECKSUM) return DROP_badCsumStart;
  if ((<u32>load<u8>(hdr + hdrL4Offset + TCP_FLAGS) & (TCP_SYN | TCP_RST | TCP_URG)) != 0) return DROP_lsoBadFlags;
  if (gsoSize == 0) return DROP_badMss;
  // A large send no longer than one MSS — even with no payload at all — goes out as one frame,
  // as Linux sends such a gso packet as it is (tcp_gso_segment: skb->len <= mss).
  const payload = frameLen - hdrTotalLen;
  if ((payload + gsoSize - 1) / gsoSize > param(P_maxSegments)) return DROP_lsoTooManySegments;
  return STATUS_OK;
}
