// UDP header (RFC 768). Offsets from the start of the UDP header.

export const UDP_HEADER_LEN: u32 = 8;
export const UDP_SRC_PORT: u32 = 0;
export const UDP_DST_PORT: u32 = 2;
export const UDP_LENGTH: u32 = 4;
export const UDP_CHECKSUM: u32 = 6;

export const IPPROTO_UDP: u32 = 17;
