// Descriptor formats of the three rings. Offsets are named here once; every stage reads and
// writes descriptors through them.

// ---- guest TX descriptor (32 bytes): what a virtio-net driver posts for one frame ----
// The offload fields mirror struct virtio_net_hdr (virtio 1.2 §5.1.6, "Device Operation"):
// flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, with the spec's constants.
export const GD_GPA: u32 = 0; // u32 guest-physical address of the frame
export const GD_LEN: u32 = 4; // u32 frame length in bytes
export const GD_COOKIE: u32 = 8; // u32 returned untouched in the completion
export const GD_FLAGS: u32 = 12; // u8  VIRTIO_NET_HDR_F_*
export const GD_GSO_TYPE: u32 = 13; // u8  VIRTIO_NET_HDR_GSO_*
export const GD_HDR_LEN: u32 = 14; // u16 bytes of protocol headers (Ethernet through L4)
export const GD_GSO_SIZE: u32 = 16; // u16 MSS: payload bytes per segment
export const GD_CSUM_START: u32 = 18; // u16 where checksumming starts (the L4 header)
export const GD_CSUM_OFFSET: u32 = 20; // u16 where the checksum goes, from csum_start
export const GD_ORIG_EXTRA: u32 = 22; // u16 replay metadata in virtio's num_buffers slot (unused on TX): bytes
//                                       the capture's snap length cut off this frame (saturating), so the
//                                       output capture keeps the frame's original length
export const GD_TIMESTAMP: u32 = 24; // u64 capture timestamp in ns: replay metadata, carried to
//                                       the output capture and never interpreted by the device

export const VIRTIO_NET_HDR_F_NEEDS_CSUM: u32 = 1;
export const VIRTIO_NET_HDR_GSO_NONE: u32 = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4: u32 = 1;
export const VIRTIO_NET_HDR_GSO_UDP: u32 = 3;
export const VIRTIO_NET_HDR_GSO_TCPV6: u32 = 4;
export const VIRTIO_NET_HDR_GSO_UDP_L4: u32 = 5;
export const VIRTIO_NET_HDR_GSO_ECN: u32 = 0x80;
// UDP tunnel GSO (virtio 1.4 draft, VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO; Linux
// include/uapi/linux/virtio_net.h): OR-ed onto the inner TCPV4/TCPV6 type, naming the outer IP
// version; the flag says the outer UDP checksum is to be computed per segment (_CSUM).
export const VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV4: u32 = 0x20;
export const VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV6: u32 = 0x40;
export const VIRTIO_NET_HDR_GSO_UDP_TUNNEL: u32 = 0x60;
export const VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM: u32 = 8;

// ---- physical TX descriptor (64 bytes): what the device hands the NIC model ----
// Every address in it is a machine address (an offset in the shared memory), already checked.
export const PD_COOKIE: u32 = 0; // u32 the guest's cookie
export const PD_STATUS: u32 = 4; // u32 STATUS_OK, or the drop reason found while translating
export const PD_HDR_ADDR: u32 = 8; // u32 machine address of the copied bytes (a pool buffer)
export const PD_HDR_COPIED: u32 = 12; // u16 bytes copied into the pool buffer
export const PD_NSG: u32 = 14; // u16 scatter-gather entries that follow the copied bytes
export const PD_SG_ADDR: u32 = 16; // u32 machine address of the SG table
export const PD_TOTAL_LEN: u32 = 20; // u32 frame bytes = copied + referenced
export const PD_TIMESTAMP: u32 = 24; // u64 replay metadata (see GD_TIMESTAMP)
export const PD_FLAGS: u32 = 32; // u8  offload flags, as posted
export const PD_GSO_TYPE: u32 = 33; // u8
export const PD_PROTO_HDR_LEN: u32 = 34; // u16 parsed L2..L4 header length (0: not parsed)
export const PD_GSO_SIZE: u32 = 36; // u16
export const PD_CSUM_START: u32 = 38; // u16
export const PD_CSUM_OFFSET: u32 = 40; // u16
export const PD_LAST: u32 = 42; // u8  1 when transmitting this completes the guest descriptor
export const PD_L3_OFFSET: u32 = 44; // u16 parsed: start of the IP header (0: none)
export const PD_L4_OFFSET: u32 = 46; // u16 parsed: start of the TCP/UDP header (0: none)
export const PD_IP_VERSION: u32 = 49; // u8  parsed: 4, 6, or 0 (a tunnel's: the inner one)
// A tunnelled large send (the L3/L4 fields above then describe the inner packet):
export const PD_OUTER_L3: u32 = 50; // u16 start of the outer IP header (0: not a tunnel)
export const PD_OUTER_L4: u32 = 52; // u16 start of the outer UDP header
export const PD_OUTER_IP_VERSION: u32 = 54; // u8 4 or 6
export const PD_ORIG_EXTRA: u32 = 56; // u16 replay metadata (see GD_ORIG_EXTRA)

// ---- scatter-gather entry (8 bytes) ----
export const SG_ADDR: u32 = 0; // u32 machine address
export const SG_LEN: u32 = 4; // u32 bytes  (entry size: SG_ENTRY_SIZE in layout.ts)

// ---- used-ring element (16 bytes): one completion ----
export const UE_COOKIE: u32 = 0; // u32 the guest's cookie
export const UE_STATUS: u32 = 4; // u32 STATUS_OK or a drop reason
export const UE_WIRE_FRAMES: u32 = 8; // u32 frames this descriptor became on the wire
