// PcapWriter: literal header bytes and round trips through both readers, µs and ns.
import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PcapWriter, readCaptureFile, readPcapStream, type CaptureFrame } from "../src/capture/index.js";
import * as B from "./capture-bytes.js";

let n = 0;
const path = () => join(B.dir, `w${n++}.pcap`);

describe("PcapWriter", () => {
  it("writes the literal µs header and record", () => {
    const p = path();
    const w = new PcapWriter(p);
    w.write(B.hex("0102"), 3_000_456_789n, 9);
    w.close();
    expect(readFileSync(p).toString("hex")).toBe(
      "d4c3b2a1" + "02000400" + "00000000" + "00000000" + "00000400" + "01000000" + // snaplen 262144, Ethernet
      "03000000" + "c8010000" + "02000000" + "09000000" + "0102"); // 456 µs: the ns part is truncated
  });
  it("writes the nanosecond magic and ns fractions when asked", () => {
    const p = path();
    const w = new PcapWriter(p, { nanosecond: true, linkType: 113, snapLen: 96 });
    w.write(B.hex("ff"), 3_000_456_789n);
    w.close();
    expect(readFileSync(p).toString("hex")).toBe(
      "4d3cb2a1" + "02000400" + "0000000000000000" + "60000000" + "71000000" +
      "03000000" + "55f80600" + "01000000" + "01000000" + "ff");
  });
  for (const nanosecond of [false, true]) {
    it(`round-trips frames of every size through both readers (${nanosecond ? "ns" : "µs"})`, async () => {
      const p = path();
      const w = new PcapWriter(p, { nanosecond });
      const sent: { data: Buffer; tsNs: bigint; origLen: number }[] = [];
      for (const [i, size] of [0, 1, 60, 1514, 9000, 65535, 185000, 262144].entries()) {
        const data = Buffer.alloc(size, i + 1);
        const tsNs = 1_700_000_000_123_456_789n + BigInt(i) * 1_000_001n;
        w.write(data, tsNs, size + 4 * i);
        sent.push({ data, tsNs: nanosecond ? tsNs : (tsNs / 1000n) * 1000n, origLen: size + 4 * i });
      }
      w.close();
      expect(w.frames).toBe(8);
      const got: typeof sent = [];
      const info = readCaptureFile(p, (f: CaptureFrame) => got.push({ data: Buffer.from(f.data), tsNs: f.tsNs, origLen: f.origLen }));
      expect(info.nanosecond).toBe(nanosecond);
      const same = (a: typeof sent) => a.length === sent.length && a.every((f, i) => f.data.equals(sent[i].data) && f.tsNs === sent[i].tsNs && f.origLen === sent[i].origLen);
      expect(same(got)).toBe(true); // Buffer.equals: toEqual walks 500 KB element by element
      const got2: typeof sent = [];
      await readPcapStream(p, (f) => got2.push({ data: Buffer.from(f.data), tsNs: f.tsNs, origLen: f.origLen }));
      expect(same(got2)).toBe(true);
    });
  }
  it("refuses what classic pcap cannot hold", () => {
    const w = new PcapWriter(path());
    expect(() => w.write(Buffer.alloc(262145), 0n)).toThrow("exceeds the 262144-byte pcap record limit");
    expect(() => w.write(Buffer.alloc(1), 4294967296n * 1_000_000_000n)).toThrow("is past 2106-02-07T06:28:15Z, the last second pcap's unsigned 32-bit seconds can hold");
    w.close();
    w.close(); // idempotent
    expect(() => w.write(Buffer.alloc(1), 0n)).toThrow("write after close");
  });
});
