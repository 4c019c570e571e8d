// Literal frame builders for tests: every byte spelled out or computed from a named field.

export const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));

export const MACS = hex("02 00 00 00 00 02  02 00 00 00 00 01");

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** IPv4 header with `optionWords` 32-bit words of NOP options. */
export function ipv4(proto: number, payloadLen: number, optionWords = 0): Uint8Array {
  const ihl = 5 + optionWords;
  const h = new Uint8Array(ihl * 4);
  h[0] = 0x40 | ihl;
  const total = ihl * 4 + payloadLen;
  h[2] = total >> 8;
  h[3] = total & 0xff;
  h[4] = 0x12; h[5] = 0x34; // ID
  h[6] = 0x40; // DF
  h[8] = 64;
  h[9] = proto;
  h.set([10, 0, 0, 1, 10, 0, 0, 2], 12);
  h.fill(0x01, 20); // NOP options
  return h;
}

export function ipv6(nextHeader: number, payloadLen: number): Uint8Array {
  const h = new Uint8Array(40);
  h[0] = 0x60;
  h[4] = payloadLen >> 8;
  h[5] = payloadLen & 0xff;
  h[6] = nextHeader;
  h[7] = 64;
  h[8] = 0xfd; h[23] = 1;
  h[24] = 0xfd; h[39] = 2;
  return h;
}

/** TCP header with `optionWords` 32-bit words of NOP options. */
export function tcp(optionWords = 0, flags = 0x10): Uint8Array {
  const h = new Uint8Array(20 + optionWords * 4);
  h.set([0x30, 0x39, 0x00, 0x50, 0, 0, 0x10, 0, 0, 0, 0x20, 0], 0);
  h[12] = (5 + optionWords) << 4;
  h[13] = flags;
  h[14] = 0xff; h[15] = 0xff;
  h.fill(0x01, 20);
  return h;
}

export function udp(payloadLen: number): Uint8Array {
  const len = 8 + payloadLen;
  return Uint8Array.from([0x30, 0x39, 0x00, 0x35, len >> 8, len & 0xff, 0, 0]);
}

export const ethertype = (t: number) => Uint8Array.from([t >> 8, t & 0xff]);
export const vlanTag = (tpid: number, vid: number) => Uint8Array.from([tpid >> 8, tpid & 0xff, (vid >> 8) & 0x0f, vid & 0xff]);

export function payload(n: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
}
