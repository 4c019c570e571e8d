// The benchmark's traffic, built in memory (no capture file needed, so `vnic bench` and the
// gate run anywhere): fixed-size UDP frames, IMIX, and TCP super-packets as a Linux guest with
// TSO posts them (64 KiB, and 185 KB BIG TCP with IPv4 total length 0).
//
// Every frame is a well-formed Ethernet + IPv4 frame with a valid IPv4 header checksum; UDP
// frames carry a full UDP checksum, TCP super-packets the pseudo-header seed a guest posts with
// NEEDS_CSUM (Linux CHECKSUM_PARTIAL). Frames differ in ports / sequence numbers, so a capture
// is not one frame repeated.

import { internetChecksum, fold, onesSum } from "../reference/checksum.js";
import { IMIX_CYCLE, IMIX_SIZES } from "../capture/imix.js";

const ETH = 14;
const IPV4 = 20;
const UDP = 8;
const TCP = 32; // 20 + 12 bytes of options (NOP NOP timestamps), what Linux sends

export interface BenchCapture {
  /** Short name used in tables and config ids: "64", "imix", "1514", "tso64k", "tso185k". */
  name: string;
  description: string;
  frames: Uint8Array[];
}

function ethernet(b: Uint8Array): void {
  b.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00], 0);
}

function ipv4(b: Uint8Array, proto: number, totalLen: number, id: number): void {
  const ip = ETH;
  b[ip] = 0x45;
  b[ip + 2] = totalLen > 0xffff ? 0 : totalLen >> 8; // BIG TCP: total length 0
  b[ip + 3] = totalLen > 0xffff ? 0 : totalLen & 0xff;
  b[ip + 4] = (id >> 8) & 0xff;
  b[ip + 5] = id & 0xff;
  b[ip + 6] = 0x40; // DF
  b[ip + 8] = 64;
  b[ip + 9] = proto;
  b.set([10, 0, 0, 1, 10, 0, 0, 2], ip + 12);
  const c = internetChecksum(b, ip, ip + IPV4);
  b[ip + 10] = c >> 8;
  b[ip + 11] = c & 0xff;
}

/** An Ethernet/IPv4/UDP frame of exactly `len` bytes (≥ 42), full UDP checksum. */
export function udpFrame(len: number, seq = 0): Uint8Array {
  if (len < ETH + IPV4 + UDP) throw new Error(`a UDP frame needs at least 42 bytes, not ${len}`);
  const b = new Uint8Array(len);
  ethernet(b);
  ipv4(b, 17, len - ETH, seq & 0xffff);
  const u = ETH + IPV4;
  const sport = 1024 + (seq % 4096);
  b.set([sport >> 8, sport & 0xff, 0x13, 0x89, (len - u) >> 8, (len - u) & 0xff, 0, 0], u);
  for (let i = u + UDP; i < len; i++) b[i] = (i * 7 + seq) & 0xff;
  const pseudo = onesSum(b, ETH + 12, ETH + 20) + 17 + (len - u);
  const c = internetChecksum(b, u, len, pseudo) || 0xffff;
  b[u + 6] = c >> 8;
  b[u + 7] = c & 0xff;
  return b;
}

/** A TCP super-packet with `payload` bytes of data (ACK|PSH, timestamps option), TCP
 *  checksum field = the pseudo-header seed. Over 64 KiB it is BIG TCP (IPv4 total length 0). */
export function tcpSuperPacket(payload: number, seq = 0): Uint8Array {
  const len = ETH + IPV4 + TCP + payload;
  const b = new Uint8Array(len);
  ethernet(b);
  ipv4(b, 6, len - ETH, (seq * 64) & 0xffff);
  const t = ETH + IPV4;
  const sn = (0x10000000 + seq * payload) >>> 0;
  b.set([0xc3, 0x50, 0x14, 0x51, sn >>> 24, (sn >>> 16) & 0xff, (sn >>> 8) & 0xff, sn & 0xff, 0, 0, 0, 1, (TCP / 4) << 4, 0x18, 0xff, 0xff], t);
  b.set([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2], t + 20);
  for (let i = t + TCP; i < len; i++) b[i] = (i * 13 + seq) & 0xff;
  const seed = fold(onesSum(b, ETH + 12, ETH + 20) + 6 + (len - t));
  b[t + 16] = seed >> 8;
  b[t + 17] = seed & 0xff;
  return b;
}


/** 64 KiB: a 65,536-byte TSO frame's worth of payload in one IPv4 packet (total length
 *  ≤ 65535). 185 KB: Linux BIG TCP with gso_max_size 185000. */
export const TSO_64K_PAYLOAD = 65535 - IPV4 - TCP;
export const TSO_185K_PAYLOAD = 185000 - IPV4 - TCP;

export function benchCaptures(): BenchCapture[] {
  const fixed = (name: string, len: number, n: number): BenchCapture => ({
    name, description: `${n} UDP frames of ${len} bytes`, frames: Array.from({ length: n }, (_, i) => udpFrame(len, i)),
  });
  return [
    fixed("64", 64, 1024),
    {
      name: "imix",
      description: `simple IMIX 7:4:1 (${IMIX_SIZES.join("/")} bytes), 1200 frames`,
      frames: Array.from({ length: 1200 }, (_, i) => udpFrame(IMIX_CYCLE[i % IMIX_CYCLE.length], i)),
    },
    fixed("1514", 1514, 1024),
    {
      name: "tso64k",
      description: `32 TCP super-packets of ${TSO_64K_PAYLOAD} payload bytes (64 KiB TSO)`,
      frames: Array.from({ length: 32 }, (_, i) => tcpSuperPacket(TSO_64K_PAYLOAD, i)),
    },
    {
      name: "tso185k",
      description: `16 TCP super-packets of ${TSO_185K_PAYLOAD} payload bytes (185 KB BIG TCP)`,
      frames: Array.from({ length: 16 }, (_, i) => tcpSuperPacket(TSO_185K_PAYLOAD, i)),
    },
  ];
}
