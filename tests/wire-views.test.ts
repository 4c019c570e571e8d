import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { testCore, u32 } from "./helpers/core.js";
import { MACS, concat, ethertype, hex, ipv4, ipv6, payload, tcp, udp, vlanTag } from "../testkit/frames.js";

const core = testCore();
const x = core.exports;
const scratch = u32(x.arenaBase.value);

/** Parses `bytes` placed in a 0xa5-poisoned scratch area; returns the parse result. */
function parse(bytes: Uint8Array, avail = bytes.length) {
  core.u8.fill(0xa5, scratch, scratch + 4096);
  core.u8.set(bytes, scratch);
  const status = x.parseHeaders(scratch, avail);
  const g = (n: string) => u32(x[n].value);
  return { status, l2: g("hdrL2Len"), ip: g("hdrIpVersion"), l4: g("hdrL4Offset"), proto: g("hdrL4Proto"), total: g("hdrTotalLen") };
}
const OK = core.constant("PARSE_OK");
const TRUNCATED = core.constant("PARSE_TRUNCATED");
const MALFORMED = core.constant("PARSE_MALFORMED");

describe("header views over literal bytes (assembly/packet)", () => {
  it("Ethernet with one 802.1Q tag, IPv4, UDP", () => {
    const f = concat(MACS, vlanTag(0x8100, 100), ethertype(0x0800), ipv4(17, 8 + 4), udp(4), payload(4));
    expect(parse(f)).toEqual({ status: OK, l2: 18, ip: 4, l4: 38, proto: 17, total: 46 });
  });

  it("Ethernet with two tags (802.1ad outer, 802.1Q inner), IPv6, TCP", () => {
    const f = concat(MACS, vlanTag(0x88a8, 10), vlanTag(0x8100, 20), ethertype(0x86dd), ipv6(6, 20), tcp());
    expect(parse(f)).toEqual({ status: OK, l2: 22, ip: 6, l4: 62, proto: 6, total: 82 });
  });

  it("parses a third tag like two, and refuses a ninth (Linux's VLAN_MAX_DEPTH is 8)", () => {
    const f = concat(MACS, vlanTag(0x88a8, 1), vlanTag(0x8100, 2), vlanTag(0x8100, 3), ethertype(0x0800), ipv4(17, 8), udp(0));
    expect(parse(f)).toMatchObject({ status: OK, l2: 26, ip: 4, proto: 17 });
    const tags = Array.from({ length: 9 }, (_, i) => vlanTag(0x8100, i + 1));
    const nine = concat(MACS, ...tags, ethertype(0x0800), ipv4(17, 8), udp(0));
    expect(parse(nine).status).toBe(TRUNCATED);
    const eight = concat(MACS, ...tags.slice(0, 8), ethertype(0x0800), ipv4(17, 8), udp(0));
    expect(parse(eight)).toMatchObject({ status: OK, l2: 14 + 32 });
  });

  it("IPv4 with options, TCP with options", () => {
    const f = concat(MACS, ethertype(0x0800), ipv4(6, 32, 3), tcp(3), payload(100));
    expect(parse(f)).toEqual({ status: OK, l2: 14, ip: 4, l4: 14 + 32, proto: 6, total: 14 + 32 + 32 });
  });

  it("IPv6 with hop-by-hop, routing and destination-options extension headers, then UDP", () => {
    const hbh = hex("2b 00 01 04 00 00 00 00"); // next: routing (43), 8 bytes
    const routing = concat(hex("3c 02 00 00 00 00 00 00"), new Uint8Array(16)); // next: dest opts (60), (2+1)*8 = 24 bytes
    const dstopts = hex("11 00 01 04 00 00 00 00"); // next: UDP, 8 bytes
    const f = concat(MACS, ethertype(0x86dd), ipv6(0, 40 + 8), hbh, routing, dstopts, udp(0));
    expect(parse(f)).toEqual({ status: OK, l2: 14, ip: 6, l4: 14 + 40 + 40, proto: 17, total: 14 + 80 + 8 });
  });

  it("IPv6 non-first fragment: no L4 header behind it", () => {
    const frag = hex("06 00 00 08 00 00 00 01"); // next: TCP, offset 1 (× 8 bytes)
    const f = concat(MACS, ethertype(0x86dd), ipv6(44, 8 + 20), frag, payload(20));
    expect(parse(f)).toMatchObject({ status: OK, ip: 6, l4: 0, proto: 6, total: 14 + 48 });
  });

  it("IPv4 non-first fragment: no L4 header behind it", () => {
    const ip = ipv4(6, 20);
    ip[6] = 0x00; ip[7] = 0x10; // offset 16 × 8 bytes
    expect(parse(concat(MACS, ethertype(0x0800), ip, payload(20)))).toMatchObject({ status: OK, ip: 4, l4: 0, total: 34 });
  });

  it("a non-IP frame (ARP) parses as its Ethernet header", () => {
    const f = concat(MACS, ethertype(0x0806), payload(28));
    expect(parse(f)).toEqual({ status: OK, l2: 14, ip: 0, l4: 0, proto: 0, total: 14 });
  });

  it("reports truncation against the bytes available, never reading past them", () => {
    const f = concat(MACS, ethertype(0x0800), ipv4(6, 32, 3), tcp(3));
    for (let avail = 0; avail < f.length; avail++) {
      const r = parse(f, avail);
      expect(r.status, `avail ${avail}`).toBe(TRUNCATED);
    }
    expect(parse(f).status).toBe(OK);
  });

  it("reports impossible length fields as malformed", () => {
    const badIhl = ipv4(6, 20);
    badIhl[0] = 0x44;
    expect(parse(concat(MACS, ethertype(0x0800), badIhl, tcp())).status).toBe(MALFORMED);
    const badOffset = tcp();
    badOffset[12] = 0x40;
    expect(parse(concat(MACS, ethertype(0x0800), ipv4(6, 20), badOffset)).status).toBe(MALFORMED);
    const badVersion = ipv4(6, 20);
    badVersion[0] = 0x65;
    expect(parse(concat(MACS, ethertype(0x0800), badVersion, tcp())).status).toBe(MALFORMED);
  });
});

// parseHeaders takes a short cut for untagged IPv4 (no options) carrying UDP or TCP. The same
// bytes behind one 802.1Q tag take the general walk, so the two must agree, shifted by the tag,
// on every frame — including the ones the short cut must leave to the walk (options, fragments,
// other protocols, bad lengths, too few bytes available).
describe("parseHeaders' untagged-IPv4 short cut agrees with the general walk", () => {
  const RUNS = Math.max(1, Math.round(3000 * Number(process.env.VNIC_PROPERTY_RUNS ?? 1)));
  const verIhl = fc.oneof(fc.constantFrom(0x45, 0x46, 0x4f, 0x44, 0x40, 0x55, 0x65), fc.integer({ min: 0, max: 255 }));
  const proto = fc.oneof(fc.constantFrom(6, 17, 1, 0, 41), fc.integer({ min: 0, max: 255 }));
  const fragHi = fc.oneof(fc.constantFrom(0x00, 0x40, 0x20, 0x01, 0x1f, 0xe0), fc.integer({ min: 0, max: 255 }));
  const fragLo = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 }));
  const doff = fc.oneof(fc.constantFrom(0x50, 0x80, 0xf0, 0x40, 0x00), fc.integer({ min: 0, max: 255 }));
  const ethType = fc.oneof(fc.constant(0x0800), fc.constantFrom(0x86dd, 0x0806, 0x0008));
  const frame = fc.record({ verIhl, proto, fragHi, fragLo, doff, ethType, rest: fc.uint8Array({ minLength: 20, maxLength: 140 }) });

  it("on random IPv4-shaped headers, at every length available", () => {
    fc.assert(
      fc.property(frame, fc.nat(), ({ verIhl, proto, fragHi, fragLo, doff, ethType, rest }, cut) => {
        const ip = new Uint8Array(20);
        ip[0] = verIhl; ip[6] = fragHi; ip[7] = fragLo; ip[9] = proto;
        const l4 = rest.slice();
        l4[12] = doff;
        const untagged = concat(MACS, ethertype(ethType), ip, l4);
        const tagged = concat(MACS, vlanTag(0x8100, 7), ethertype(ethType), ip, l4);
        const avail = cut % (untagged.length + 1);
        const a = parse(untagged, avail);
        const b = parse(tagged, avail + 4);
        const shift = (v: number) => (v === 0 ? 0 : v - 4);
        expect({ status: a.status, ip: a.ip, proto: a.proto, l2: a.l2, l4: a.l4, total: a.total }).toEqual({
          status: b.status, ip: b.ip, proto: b.proto, l2: b.l2 === 0 ? 0 : b.l2 - 4, l4: shift(b.l4), total: shift(b.total),
        });
      }),
      { numRuns: RUNS },
    );
  });

  it("takes the short cut's answer for the common frames", () => {
    expect(parse(concat(MACS, ethertype(0x0800), ipv4(17, 8), udp(0)))).toEqual({ status: OK, l2: 14, ip: 4, l4: 34, proto: 17, total: 42 });
    expect(parse(concat(MACS, ethertype(0x0800), ipv4(6, 32), tcp(3), payload(1)))).toEqual({ status: OK, l2: 14, ip: 4, l4: 34, proto: 6, total: 66 });
    expect(parse(concat(MACS, ethertype(0x0800), ipv4(6, 20), tcp()), 53).status).toBe(TRUNCATED);
  });
});

