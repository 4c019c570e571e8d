// Completion statuses: the value the device writes into a used-ring entry's status field
// (descriptors.ts) for each guest descriptor. 0 is success; every other value is a named drop
// reason, counted on its own (counters.ts: COUNTER_DROPS_BASE + status) and read by the host
// from the `DROP_<name>` exports, so adding one here is the whole change.

export const STATUS_OK: u32 = 0;
export const DROP_badAddress: u32 = 1; // [gpa, gpa+len) not inside guest RAM
export const DROP_empty: u32 = 2; // zero-length descriptor
export const DROP_tooManySegments: u32 = 3; // SG chain longer than MAX_SG
export const DROP_oversize: u32 = 4; // frame longer than the MTU allows, no large send asked
export const DROP_runt: u32 = 5; // shorter than an Ethernet header
// Offload requests the device refuses (virtio 1.2 §5.1.6.2: a device must not act on a header
// it cannot honour; we complete the descriptor with the reason instead of guessing):
export const DROP_lsoNotTcp: u32 = 6; // gso_type other than TCPV4/TCPV6 (UDP, UDP_L4, unknown)
export const DROP_badMss: u32 = 7; // gso_size 0, or no MSS fits the NIC's large-send limit
export const DROP_headersBeyondFrame: u32 = 8; // hdr_len or the checksum field past the frame
export const DROP_badHdrLen: u32 = 9; // hdr_len shorter than the headers the device parsed
export const DROP_badCsumStart: u32 = 10; // csum_start/csum_offset not the TCP checksum field
export const DROP_lsoBadFlags: u32 = 11; // SYN, RST or URG in a large send
export const DROP_lsoFragment: u32 = 12; // an IPv4 or IPv6 fragment asked to be segmented
export const DROP_lsoTooManySegments: u32 = 13; // more segments than the NIC allows
export const DROP_lsoUnparsed: u32 = 14; // no Ethernet/IP/TCP header stack the device can parse
export const DROP_lsoTypeMismatch: u32 = 15; // TCPV4 on an IPv6 packet or the reverse
export const DROP_headersTooLong: u32 = 16; // headers longer than a pool buffer (240 bytes)
// 17 was lsoEmpty: a large send with no payload now goes out as one header-only frame.
export const DROP_badCsumRequest: u32 = 18; // NEEDS_CSUM whose field lies outside the frame
export const DROP_lsoTooManyChunks: u32 = 19; // stage 1 would need more chunks than ring slots
export const DROP_usoBadLength: u32 = 20; // GSO_UDP_L4 whose datagram does not fit the UDP length field
export const MAX_DROP_REASONS: u32 = 32;
