// Software segmentation of a tunnel the NIC cannot segment (P_nicTunnelLsoOff, the CLI's
// --nic-tunnel-lso off): the kernel's fallback from GSO_PARTIAL to full software GSO
// (skb_udp_tunnel_segment in software, then skb_checksum_help). Stage 1 has already cut the
// large send into one-MSS chunks with every length, ID, sequence number and flag of its
// segment fixed (lso-split.ts); this completes each such chunk into a finished frame — inner IPv4
// header checksum, inner TCP checksum, outer IPv4 header checksum, outer UDP checksum when
// the guest asked for one (VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM) — and posts it to the NIC as a
// plain frame (no gso_type, no checksum request). The payload is summed where it lies in
// guest memory (the SG entries), never copied.

import * as D from "../shared/descriptors";
import { checksumAdd, fold, ipv4HeaderChecksum, pseudoHeaderV4, pseudoHeaderV6, storeChecksum } from "../packet/checksum";
import { ipv4HeaderLen } from "../packet/ipv4";
import { IPPROTO_TCP, TCP_CHECKSUM } from "../packet/tcp";
import { IPPROTO_UDP, UDP_CHECKSUM, storeUdpChecksum } from "../packet/udp";

/** Ones'-complement sum of the `nsg` SG entries of `table`, in memory order as if they
 *  followed an even number of bytes. An entry that starts at an odd byte of the stream adds
 *  its sum byte-swapped (RFC 1071 §2(B)). */
function sumPayload(table: u32, nsg: u32): u32 {
  let sum: u64 = 0;
  let odd = false;
  for (let i: u32 = 0; i < nsg; i++) {
    const n = load<u32>(table + i * 8 + D.SG_LEN);
    let s = fold(checksumAdd(load<u32>(table + i * 8 + D.SG_ADDR), n, 0));
    if (odd) s = ((s & 0xff) << 8) | (s >> 8);
    sum += s;
    if ((n & 1) != 0) odd = !odd;
  }
  return fold(<u32>(sum & 0xffffffff) + <u32>(sum >> 32));
}

/** Completes the one-segment chunk `pd` (headers at `buf`, `hLen` bytes; `len` payload bytes
 *  in the SG entries) into a finished frame. */
export function finishInSoftware(pd: u32, buf: u32, hLen: u32, table: u32, nsg: u32, len: u32): void {
  const l3 = <u32>load<u16>(pd + D.PD_L3_OFFSET);
  const l4 = <u32>load<u16>(pd + D.PD_L4_OFFSET);
  const o3 = <u32>load<u16>(pd + D.PD_OUTER_L3);
  const o4 = <u32>load<u16>(pd + D.PD_OUTER_L4);
  const payload = sumPayload(table, nsg);
  const ip = buf + l3;
  const innerV4 = load<u8>(pd + D.PD_IP_VERSION) == 4;
  if (innerV4) ipv4HeaderChecksum(ip, ipv4HeaderLen(ip));
  const tcpLen = hLen - l4 + len;
  store<u16>(buf + l4 + TCP_CHECKSUM, 0);
  const pseudo = innerV4 ? pseudoHeaderV4(ip, IPPROTO_TCP, tcpLen) : pseudoHeaderV6(ip, IPPROTO_TCP, tcpLen);
  storeChecksum(buf + l4 + TCP_CHECKSUM, checksumAdd(buf + l4, hLen - l4, pseudo + payload));
  const oip = buf + o3;
  const outerV4 = load<u8>(pd + D.PD_OUTER_IP_VERSION) == 4;
  if (outerV4) ipv4HeaderChecksum(oip, ipv4HeaderLen(oip));
  if ((load<u8>(pd + D.PD_FLAGS) & D.VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM) != 0) {
    const udpLen = hLen - o4 + len;
    store<u16>(buf + o4 + UDP_CHECKSUM, 0);
    const op = outerV4 ? pseudoHeaderV4(oip, IPPROTO_UDP, udpLen) : pseudoHeaderV6(oip, IPPROTO_UDP, udpLen);
    storeUdpChecksum(buf + o4 + UDP_CHECKSUM, checksumAdd(buf + o4, hLen - o4, op + payload));
  }
  store<u8>(pd + D.PD_GSO_TYPE, <u8>D.VIRTIO_NET_HDR_GSO_NONE);
  store<u8>(pd + D.PD_FLAGS, 0);
}
