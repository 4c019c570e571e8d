// Literal-byte tests of the reference: RFC examples for the checksum, pseudo-headers worked out
// by hand, header parsing over 0xa5-poisoned buffers, one small segmentation checked field by
// field, and one test per named error reason.

import { describe, expect, it } from "vitest";
import {
  OFFLOAD_ERROR_REASONS, OffloadError, checksumOffload, defaultMss, fold, internetChecksum, offloadFrame, onesSum,
  parseFrame, pseudoHeaderSumV4, pseudoHeaderSumV6, segmentTcp, segmentTunnel, segmentUdp, stage1Split, updateChecksum,
} from "../src/reference/index.js";
import { buildFrame, FrameSpec, read16, read32 } from "./reference-frames.js";

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));

describe("RFC 1071 checksum, literal bytes", () => {
  it("RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to 0x2ddf0, folds to 0xddf2, checksum 0x220d", () => {
    const data = hex("0001 f203 f4f5 f6f7");
    expect(onesSum(data)).toBe(0x2ddf0);
    expect(fold(onesSum(data))).toBe(0xddf2);
    expect(internetChecksum(data)).toBe(0x220d);
  });

  it("an odd final byte is padded with zero on the right (RFC 1071 §4.1)", () => {
    expect(onesSum(hex("01"))).toBe(0x0100);
    expect(onesSum(hex("0001 f2"))).toBe(0x0001 + 0xf200);
  });

  it("a textbook IPv4 header (192.168.0.1 → 192.168.0.199, UDP) has checksum 0xb861", () => {
    const h = hex("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7");
    expect(internetChecksum(h)).toBe(0xb861);
    h[10] = 0xb8;
    h[11] = 0x61;
    expect(fold(onesSum(h))).toBe(0xffff); // verifies
  });

  it("RFC 1624 §4: HC 0xdd2f, a word 0x5555 → 0x3285 gives HC' 0x0000 by eqn. 3", () => {
    expect(updateChecksum(0xdd2f, 0x5555, 0x3285)).toBe(0x0000);
  });

  it("IPv4 pseudo-header: c0a8+0001+c0a8+00c7 + proto 0x11 + length 8 = 0x18231", () => {
    const h = hex("4500 001c 0000 4000 4011 0000 c0a8 0001 c0a8 00c7");
    expect(pseudoHeaderSumV4(h, 0, 17, 8)).toBe(0x18231);
  });

  it("IPv6 pseudo-header: fe80::1 → fe80::2, TCP, length 20 = 0x1fd1d; a jumbo length adds both halves", () => {
    const h = new Uint8Array(40);
    h.set(hex("fe80"), 8);
    h[23] = 1;
    h.set(hex("fe80"), 24);
    h[39] = 2;
    expect(pseudoHeaderSumV6(h, 0, 6, 20)).toBe(0xfe80 + 1 + 0xfe80 + 2 + 20 + 6);
    expect(pseudoHeaderSumV6(h, 0, 6, 0x12345)).toBe(0xfe80 + 1 + 0xfe80 + 2 + 0x1 + 0x2345 + 6);
  });

  it("a bare TCP ACK 10.0.0.1:1 → 10.0.0.2:2 has checksum 0x9bcf (worked by hand)", () => {
    // pseudo 0a00+0001+0a00+0002+0006+0014 = 0x141d; TCP 0001+0002+5010 = 0x5013; sum 0x6430.
    const frame = hex(
      "020000000002 020000000001 0800" +
        "4500 0028 0000 4000 4006 0000 0a00 0001 0a00 0002" +
        "0001 0002 0000 0000 0000 0000 5010 0000 0000 0000",
    );
    const out = checksumOffload(frame);
    expect(read16(out, 14 + 20 + 16)).toBe(0x9bcf);
  });
});

describe("header parsing, literal bytes", () => {
  it("parses VLAN-tagged IPv4 with options and TCP with options; bytes after the IP packet are padding", () => {
    const frame = new Uint8Array(14 + 4 + 24 + 24 + 5 + 7).fill(0xa5); // 7 bytes of 0xa5 trailer
    frame.set(hex("ffffffffffff 020000000001 8100 0064 0800"));
    frame.set(hex("4600 0035 1234 4000 4006 0000 0a000001 0a000002 01010100"), 18);
    frame.set(hex("0001 0002 00000001 00000000 6018 ffff 0000 0000 02040578"), 42);
    frame.set(hex("6869212121"), 66);
    const l = parseFrame(frame);
    expect(l).toMatchObject({ vlanTags: 1, l3: 18, ipVersion: 4, ipHeaderLen: 24, l4: 42, l4HeaderLen: 24, payload: 66, payloadLen: 5, ipEnd: 71 });
    expect(l.fragment).toBe(false);
  });

  it("parses IPv6 with a jumbo hop-by-hop header (RFC 2675) and payload length 0", () => {
    const b = buildFrame(spec({ ipVersion: 6, jumbo: true, payloadLen: 70000 }));
    const l = parseFrame(b.frame);
    expect(l).toMatchObject({ ipVersion: 6, jumboHbh: true, bigTcp: true, ipHeaderLen: 48, payloadLen: 70000 });
  });
});

function spec(over: Partial<FrameSpec>): FrameSpec {
  return {
    vlanTags: 0, ipVersion: 4, ipv4Options: 0, ipv6Hbh: false, ipv6DestOpts: 0, jumbo: false,
    tcpOptions: new Uint8Array(0), flags: 0x10, seq: 1000, ack: 7, ipId: 100, payloadLen: 10, payloadSeed: 0, junkChecksum: 0x1234,
    ...over,
  };
}

describe("segmentation, one case by hand", () => {
  it("10 bytes at MSS 4: lengths 4/4/2, seq +0/+4/+8 across 2^32, ID +1 across 2^16, FIN/PSH last, CWR first", () => {
    const s = spec({ flags: 0x80 | 0x10 | 0x08 | 0x01, seq: 0xfffffffa, ipId: 0xffff });
    const segs = segmentTcp(buildFrame(s).frame, { mss: 4 });
    expect(segs.map((x) => x.length)).toEqual([58, 58, 56]);
    expect(segs.map((x) => read16(x, 16))).toEqual([44, 44, 42]); // IPv4 total length
    expect(segs.map((x) => read16(x, 18))).toEqual([0xffff, 0x0000, 0x0001]); // ID
    expect(segs.map((x) => read32(x, 38))).toEqual([0xfffffffa, 0xfffffffe, 0x00000002]); // seq
    expect(segs.map((x) => x[47])).toEqual([0x90, 0x10, 0x19]); // CWR|ACK, ACK, ACK|PSH|FIN
  });

  it("IPv6 BIG TCP: segments carry no jumbo option and the fixed header names TCP", () => {
    const segs = segmentTcp(buildFrame(spec({ ipVersion: 6, jumbo: true, payloadLen: 70000 })).frame, { mss: 1428 });
    expect(segs.length).toBe(50);
    for (const x of segs) {
      expect(x[14 + 6]).toBe(6);
      expect(read16(x, 14 + 4)).toBe(x.length - 54);
    }
  });

  it("IPv4 BIG TCP (total length 0) gets real lengths in chunks", () => {
    const chunks = stage1Split(buildFrame(spec({ payloadLen: 100000 })).frame, { mss: 1448 });
    expect(chunks.length).toBe(2);
    expect(chunks.map((c) => read16(c, 16))).toEqual([40 + 45 * 1448, 40 + 100000 - 45 * 1448]);
    expect(chunks.map((c) => read16(c, 18))).toEqual([100, 145]); // ID advanced by 45 segments
  });

  it("the default MSS is mtu − IP header − TCP header of the packet itself (1448 for IPv4 + timestamps)", () => {
    expect(defaultMss(buildFrame(spec({ tcpOptions: new Uint8Array(12) })).frame, 1500)).toBe(1448);
    expect(defaultMss(buildFrame(spec({ ipVersion: 6, jumbo: true, payloadLen: 70000, tcpOptions: new Uint8Array(12) })).frame, 1500)).toBe(1428);
  });
});

describe("bad requests are errors with named reasons", () => {
  const reason = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (e instanceof OffloadError) return e.reason;
      throw e;
    }
    return "ok";
  };
  const good = () => buildFrame(spec({ payloadLen: 3000 })).frame;
  const cases: Array<[string, () => unknown]> = [
    ["mssZero", () => segmentTcp(good(), { mss: 0 })],
    ["mssTooSmall", () => segmentTcp(good(), { mss: 10, minMss: 88 })],
    ["mssExceedsMtu", () => segmentTcp(good(), { mss: 1461, mtu: 1500 })],
    ["mssExceedsNicLimit", () => stage1Split(buildFrame(spec({ payloadLen: 20000 })).frame, { mss: 9000, nicMaxLso: 4000 })],
    ["headersBeyondFrame", () => segmentTcp(good().subarray(0, 30), { mss: 100 })],
    ["lengthBeyondFrame", () => segmentTcp(good().subarray(0, 1000), { mss: 100 })],
    ["badIpHeader", () => segmentTcp(Object.assign(good(), { 14: 0x43 }), { mss: 100 })],
    ["badTcpHeader", () => segmentTcp(Object.assign(good(), { 46: 0x40 }), { mss: 100 })],
    ["notIp", () => offloadFrame(Object.assign(good(), { 12: 0x88, 13: 0xb5 }), { mtu: 1500 })],
    ["notTcp", () => segmentTcp(Object.assign(good(), { 23: 17 }), { mss: 100 })],
    ["ipv4Fragment", () => segmentTcp(Object.assign(good(), { 20: 0x20 }), { mss: 100 })],
    ["badTcpFlags", () => segmentTcp(buildFrame(spec({ flags: 0x12 })).frame, { mss: 4 })],
    ["tooManySegments", () => segmentTcp(good(), { mss: 1, maxSegments: 2999 })],
    ["notUdp", () => segmentUdp(good(), { mss: 100 })],
    ["udpTooLong", () => segmentUdp(Object.assign(buildFrame(spec({ ipVersion: 6, payloadLen: 70000 })).frame, { 20: 17 }), { mss: 1000 })],
    ["notTunnel", () => segmentTunnel(Object.assign(good(), { 23: 17 }), { mss: 100 })],
    // A jumbo SYN carrying data is no large send: the capture path drops it as oversize.
    ["oversize", () => offloadFrame(buildFrame(spec({ flags: 0x02, payloadLen: 3000 })).frame, { mtu: 1500 })],
  ];
  it("covers every reason in OFFLOAD_ERROR_REASONS", () => {
    expect(cases.map(([r]) => r).sort()).toEqual([...OFFLOAD_ERROR_REASONS].sort());
  });
  for (const [want, f] of cases) it(want, () => expect(reason(f)).toBe(want));
});
