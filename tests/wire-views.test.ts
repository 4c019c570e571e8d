import { describe, expect, it } from "vitest";
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
