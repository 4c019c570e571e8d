// Pass-through (--offload passthrough|auto, only with --iface): the virtual device switched by
// the operation asked of it. An operation passed through is not performed here: the frame goes
// on the wire as the guest posted it, preceded by its virtio_net_hdr (virtio 1.2 §5.1.6), and
// the host's packet socket hands both to the kernel (AF_PACKET with PACKET_VNET_HDR,
// virtio_net_hdr_to_skb): the kernel's GSO, or the real NIC's TSO / checksum offload, does it.
// Every other operation is emulated as before (lso-segment.ts, nic.ts completeChecksum).
//
// The wire record says so in its flags word (wire-ring.ts: the word after the length):
// WIRE_FLAG_VNET_HDR, and its length then counts the header's 10 bytes.

import * as D from "../shared/descriptors";
import { isLargeSend } from "../backend/gso-check";
import { param, P_offloadPass } from "../shared/params";
import { WIRE_RECORD_FLAGS, WIRE_RECORD_HEADER } from "./wire-ring";

/** struct virtio_net_hdr without num_buffers (the legacy TX header PACKET_VNET_HDR takes). */
export const VNET_HDR_LEN: u32 = 10;
export const WIRE_FLAG_VNET_HDR: u32 = 1;
/** P_offloadPass bits: which operations go to the kernel as they are (per IP version, as a
 *  device's features are: tx-tcp-segmentation, tx-tcp6-segmentation, tx-checksum-ipv4/6). */
export const PASS_LSO4: u32 = 1;
export const PASS_CSUM4: u32 = 2;
export const PASS_LSO6: u32 = 4;
export const PASS_CSUM6: u32 = 8;

/** Does this descriptor's operation pass through (rather than being emulated)? */
// @ts-ignore: decorator (nic.ts calls it from nicStage and nicStageGather: inlined in both, as before)
@inline export function passesThrough(pd: u32): bool {
  const pass = param(P_offloadPass);
  if (pass == 0) return false;
  const gso = load<u8>(pd + D.PD_GSO_TYPE);
  if (isLargeSend(gso)) {
    const kind = gso & ~D.VIRTIO_NET_HDR_GSO_ECN;
    // Only TCP large sends exist here (gso-check.ts refuses the rest before the NIC sees them).
    return kind == D.VIRTIO_NET_HDR_GSO_TCPV4 ? (pass & PASS_LSO4) != 0 : kind == D.VIRTIO_NET_HDR_GSO_TCPV6 && (pass & PASS_LSO6) != 0;
  }
  if ((load<u8>(pd + D.PD_FLAGS) & D.VIRTIO_NET_HDR_F_NEEDS_CSUM) == 0) return false;
  const v = ipVersionOf(pd);
  if (v == 0) return (pass & (PASS_CSUM4 | PASS_CSUM6)) == (PASS_CSUM4 | PASS_CSUM6);
  return (pass & (v == 4 ? PASS_CSUM4 : PASS_CSUM6)) != 0;
}

/** IP version of a checksum request, from the Ethernet type in the copied header bytes (one
 *  802.1Q/802.1ad tag skipped); 0 when they do not say (too few bytes copied, not IP). Large
 *  sends have theirs parsed already (PD_IP_VERSION, lso-split.ts); checksum requests do not. */
function ipVersionOf(pd: u32): u32 {
  const copied = <u32>load<u16>(pd + D.PD_HDR_COPIED);
  const hdr = load<u32>(pd + D.PD_HDR_ADDR);
  if (copied < 14) return 0;
  let type = bswap<u16>(load<u16>(hdr + 12));
  if ((type == 0x8100 || type == 0x88a8) && copied >= 18) type = bswap<u16>(load<u16>(hdr + 16));
  return type == 0x0800 ? 4 : type == 0x86dd ? 6 : 0;
}

/** Writes the descriptor's virtio_net_hdr at `at` (little-endian: the legacy header is in the
 *  host's byte order, virtio 1.2 §5.1.6 "legacy interface") and flags the record. */
export function writeVnetHeader(at: u32, pd: u32): void {
  const gso = load<u8>(pd + D.PD_GSO_TYPE);
  store<u8>(at, load<u8>(pd + D.PD_FLAGS) & <u8>D.VIRTIO_NET_HDR_F_NEEDS_CSUM);
  store<u8>(at + 1, gso);
  store<u16>(at + 2, isLargeSend(gso) ? load<u16>(pd + D.PD_PROTO_HDR_LEN) : 0);
  store<u16>(at + 4, isLargeSend(gso) ? load<u16>(pd + D.PD_GSO_SIZE) : 0);
  store<u16>(at + 6, load<u16>(pd + D.PD_CSUM_START));
  store<u16>(at + 8, load<u16>(pd + D.PD_CSUM_OFFSET));
  store<u16>(at - WIRE_RECORD_HEADER + WIRE_RECORD_FLAGS, <u16>WIRE_FLAG_VNET_HDR);
}
