// TCP header (RFC 9293 §3.1). Offsets from the start of the TCP header.

export const TCP_MIN_LEN: u32 = 20;
export const TCP_SRC_PORT: u32 = 0;
export const TCP_DST_PORT: u32 = 2;
export const TCP_SEQ: u32 = 4;
export const TCP_ACK: u32 = 8;
export const TCP_DATA_OFFSET: u32 = 12; // high 4 bits: header length in 32-bit words
export const TCP_FLAGS: u32 = 13;
export const TCP_WINDOW: u32 = 14;
export const TCP_CHECKSUM: u32 = 16;
export const TCP_URGENT: u32 = 18;

export const TCP_FIN: u32 = 0x01;
export const TCP_SYN: u32 = 0x02;
export const TCP_RST: u32 = 0x04;
export const TCP_PSH: u32 = 0x08;
export const TCP_ACK_FLAG: u32 = 0x10;
export const TCP_URG: u32 = 0x20;
export const TCP_ECE: u32 = 0x40;
export const TCP_CWR: u32 = 0x80;

export const IPPROTO_TCP: u32 = 6;

/** Header length in bytes, options included. */
// @ts-ignore: decorator
@inline export function tcpHeaderLen(tcp: u32): u32 {
  return (<u32>load<u8>(tcp + TCP_DATA_OFFSET) >> 4) << 2;
}
