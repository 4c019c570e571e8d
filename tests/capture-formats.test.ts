// Every capture format and byte order the reader claims, from literal bytes, builder-made files
// and the real captures in ../shared/captures.
import { describe, it, expect } from "vitest";
import { existsSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { readCaptureFile, openFrameSource, requireEthernet, readPcapStream, CaptureError, type CaptureFrame } from "../src/capture/index.js";
import * as B from "./capture-bytes.js";

const here = dirname(fileURLToPath(import.meta.url));
const SHARED = join(here, "..", "..", "shared", "captures");

function readAll(file: string) {
  const got: { data: Buffer; tsNs: bigint; origLen: number }[] = [];
  const info = readCaptureFile(file, (f: CaptureFrame) => got.push({ data: Buffer.from(f.data), tsNs: f.tsNs, origLen: f.origLen }));
  return { info, frames: got };
}
async function readAllStream(file: string) {
  const got: { data: Buffer; tsNs: bigint; origLen: number }[] = [];
  const info = await readPcapStream(file, (f) => got.push({ data: Buffer.from(f.data), tsNs: f.tsNs, origLen: f.origLen }));
  return { info, frames: got };
}

describe("classic pcap, literal bytes", () => {
  it("reads little-endian microsecond pcap", async () => {
    const f = B.tmpFile(B.hex(`
      d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000
      01000000 20a10700 04000000 3c000000 deadbeef`));
    for (const r of [readAll(f), await readAllStream(f)]) {
      expect(r.info).toMatchObject({ format: "pcap", linkType: 1, nanosecond: false, snapLen: 65535, frames: 1, bytes: 4 });
      expect(r.frames).toEqual([{ data: B.hex("deadbeef"), tsNs: 1_500_000_000n, origLen: 60 }]);
    }
  });
  it("reads big-endian nanosecond pcap", async () => {
    const f = B.tmpFile(B.hex(`
      a1b23c4d 0002 0004 00000000 00000000 00000100 00000001
      00000002 3b9ac9ff 00000002 00000002 cafe`));
    for (const r of [readAll(f), await readAllStream(f)]) {
      expect(r.info).toMatchObject({ format: "pcap", nanosecond: true, snapLen: 256, frames: 1 });
      expect(r.frames).toEqual([{ data: B.hex("cafe"), tsNs: 2_999_999_999n, origLen: 2 }]);
    }
  });
});

describe("classic pcap, all four magics", () => {
  for (const le of [true, false]) {
    for (const nano of [false, true]) {
      it(`${le ? "little" : "big"}-endian, ${nano ? "ns" : "µs"}: both readers agree`, async () => {
        const data = B.frames(3, 60);
        const file = B.tmpFile(Buffer.concat([B.pcapHeader({ le, nano }), ...data.map((d, i) => B.pcapRecord(d, { le, sec: 100 + i, frac: 999_999 - i }))]));
        const unit = nano ? 1n : 1000n;
        const want = data.map((d, i) => ({ data: d, tsNs: BigInt(100 + i) * 1_000_000_000n + BigInt(999_999 - i) * unit, origLen: 60 }));
        const a = readAll(file);
        expect(a.info.nanosecond).toBe(nano);
        expect(a.frames).toEqual(want);
        expect((await readAllStream(file)).frames).toEqual(want);
      });
    }
  }
  it("splits the LinkType field: low 16 bits the type, FCS length only when bit 26 says so", () => {
    const withFcs = readAll(B.tmpFile(B.pcapHeader({ linkType: 0x24000001 }))).info;
    expect(withFcs).toMatchObject({ linkType: 1, fcsBytes: 4 });
    expect(() => requireEthernet(withFcs, "x.pcap")).toThrow("x.pcap: at byte 0: frames carry a 4-byte FCS; vnic transmits Ethernet frames without FCS");
    const unknownFcs = readAll(B.tmpFile(B.pcapHeader({ linkType: 0x30000001 }))).info;
    expect(unknownFcs.linkType).toBe(1);
    expect(unknownFcs.fcsBytes).toBeUndefined();
    expect(() => requireEthernet(unknownFcs, "x.pcap")).not.toThrow();
  });
  it("requireEthernet names the link type it refuses", () => {
    const info = readAll(B.tmpFile(B.pcapHeader({ linkType: 113 }))).info;
    expect(() => requireEthernet(info, "cooked.pcap")).toThrow(
      new CaptureError("cooked.pcap", 0, "link type 113 (Linux cooked) is not Ethernet; vnic transmits Ethernet frames"));
  });
});

describe("pcapng", () => {
  it("reads a literal little-endian SHB + IDB + EPB", () => {
    const f = B.tmpFile(B.hex(`
      0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000
      01000000 14000000 0100 0000 00000100 14000000
      06000000 24000000 00000000 00000000 40420f00 04000000 05000000 01020304 24000000`));
    const r = readAll(f);
    expect(r.info).toEqual({ format: "pcapng", linkType: 1, linkTypeAt: 28, nanosecond: false, snapLen: 65536, frames: 1, bytes: 4, sections: 1 });
    expect(r.frames).toEqual([{ data: B.hex("01020304"), tsNs: 1_000_000_000n, origLen: 5 }]);
  });
  it("reads a big-endian section the same as a little-endian one, padding included", () => {
    for (const le of [true, false]) {
      const d = Buffer.from("abcde"); // 5 bytes: 3 bytes of block padding
      const r = readAll(B.tmpFile(Buffer.concat([B.shb(le), B.idb(1, 0, le), B.epb(0, 7n, d, le), B.epb(0, 8n, d.subarray(0, 4), le)])));
      expect(r.frames.map((f) => [f.data.toString(), f.tsNs])).toEqual([["abcde", 7000n], ["abcd", 8000n]]);
    }
  });
  it("converts if_tsresol in both forms and applies if_tsoffset", () => {
    const cases: [number, bigint, bigint, boolean][] = [
      [6, 1_234_567n, 1_234_567_000n, false], // default-equivalent µs
      [9, 1_234_567n, 1_234_567n, true],
      [3, 1_234n, 1_234_000_000n, false],
      [12, 1_234_567n, 1_234n, true], // ps → ns, floored
      [0x80 | 10, 2048n, 2_000_000_000n, true], // 2^-10 s units: no whole number of µs, so ns
      [0x80 | 8, 257n, 1_003_906_250n, true], // 2^-8 s (pcapng test902): 3,906,250 ns each, exactly
      [0x80 | 6, 65n, 1_015_625_000n, false], // 2^-6 s = 15,625 µs: microseconds hold it
      [0x80 | 30, 3n << 29n, 1_500_000_000n, true], // 2^-30 s
    ];
    for (const [res, ts, ns, nano] of cases) {
      const r = readAll(B.tmpFile(Buffer.concat([B.shb(), B.idb(1, 0, true, [B.tsresol(res)]), B.epb(0, ts, Buffer.alloc(14))])));
      expect([res, r.frames[0].tsNs, r.info.nanosecond]).toEqual([res, ns, nano]);
    }
    const off = readAll(B.tmpFile(Buffer.concat([B.shb(false), B.idb(1, 0, false, [B.tsoffset(1_000n, false)]), B.epb(0, 5n, Buffer.alloc(1), false)])));
    expect(off.frames[0].tsNs).toBe(1_000_000_005_000n);
  });
  it("reads simple packet blocks: captured length = min(original, snap length, block room)", () => {
    const r = readAll(B.tmpFile(Buffer.concat([B.shb(), B.idb(1, 6), B.epb(0, 1n, Buffer.from("xyz")), B.spb(10, Buffer.from("0123456789")), B.spb(4, Buffer.from("abcdefgh")), B.spb(100, Buffer.from("abc"))])));
    expect(r.frames.map((f) => [f.data.toString(), f.origLen, f.tsNs])).toEqual([
      ["xyz", 3, 1000n], ["012345", 10, 1000n], ["abcd", 4, 1000n], ["abc\0", 100, 1000n], // the last keeps its pad byte: SPB has no captured length
    ]);
  });
  it("reads the obsolete packet block", () => {
    const r = readAll(B.tmpFile(Buffer.concat([B.shb(false), B.idb(1, 0, false), B.opb(0, 42n, Buffer.from("old"), false)])));
    expect(r.frames.map((f) => [f.data.toString(), f.tsNs])).toEqual([["old", 42000n]]);
  });
  it("resets interface ids per section and takes each section's byte order", () => {
    const file = B.tmpFile(Buffer.concat([
      B.shb(true), B.idb(1, 0, true), B.idb(1, 0, true, [B.tsresol(9)]), B.epb(1, 5n, Buffer.from("s1i1")),
      B.shb(false), B.idb(1, 0, false, [B.tsresol(3, false)]), B.epb(0, 5n, Buffer.from("s2i0"), false),
    ]));
    const r = readAll(file);
    expect(r.info.sections).toBe(2);
    expect(r.frames.map((f) => [f.data.toString(), f.tsNs])).toEqual([["s1i1", 5n], ["s2i0", 5_000_000n]]);
    const stale = B.tmpFile(Buffer.concat([B.shb(), B.idb(1, 0), B.idb(1, 0), B.shb(), B.idb(1, 0), B.epb(1, 0n, Buffer.alloc(4))]));
    const at = 28 + 20 + 20 + 28 + 20;
    expect(() => readAll(stale)).toThrow(new CaptureError(stale, at, "packet refers to interface 1 but the section declares 1"));
  });
  it("skips blocks it does not use", () => {
    const nrb = B.block(4, Buffer.alloc(12, 7));
    const isb = B.block(5, Buffer.alloc(20, 1));
    const custom = B.block(0x40000bad, Buffer.from("private stuff"));
    const r = readAll(B.tmpFile(Buffer.concat([B.shb(), nrb, B.idb(1, 0), custom, B.epb(0, 0n, Buffer.from("a")), isb])));
    expect(r.frames.map((f) => f.data.toString())).toEqual(["a"]);
  });
  it("reads interfaces of different link types: each frame carries its interface's", () => {
    const file = B.tmpFile(Buffer.concat([B.shb(), B.idb(1, 0), B.epb(0, 0n, Buffer.alloc(14)), B.idb(113, 0), B.epb(1, 0n, Buffer.alloc(16))]));
    const got: [number | undefined, number | undefined][] = [];
    readCaptureFile(file, (f) => got.push([f.linkType, f.linkTypeAt]));
    expect(got).toEqual([[1, 28], [113, 28 + 20 + 48]]);
  });
  it("knows link type and snap length on open, before the first frame", () => {
    const src = openFrameSource(B.tmpFile(Buffer.concat([B.shb(), B.block(4, Buffer.alloc(4)), B.idb(113, 96), B.epb(0, 0n, Buffer.alloc(4))])));
    expect(src.info).toMatchObject({ linkType: 113, snapLen: 96, frames: 0 });
    // The error points at the interface description block that declares it (after the 28-byte
    // SHB and a 16-byte unknown block), not at byte 0.
    expect(() => requireEthernet(src.info, "f")).toThrow(new CaptureError("f", 28 + 16,
      "the interface's link type 113 (Linux cooked) is not Ethernet; vnic transmits Ethernet frames"));
    src.close();
    const none = openFrameSource(B.tmpFile(B.shb()));
    expect(none.info.linkType).toBe(-1);
    expect(() => requireEthernet(none.info, "f")).toThrow("link type none (the capture declares no interface) is not Ethernet");
    none.close();
  });
});

const HAVE_SHARED = existsSync(SHARED);
describe.skipIf(!HAVE_SHARED)(HAVE_SHARED ? `real captures in ${SHARED}` : `real captures: skipped, ${SHARED} not found`, () => {
  it("tcpreplay-test_nano.pcap: nanosecond timestamps, same frames as the µs twin", async () => {
    const nano = readAll(join(SHARED, "conformance/tcpreplay-test_nano.pcap"));
    const micro = readAll(join(SHARED, "conformance/tcpreplay-test.pcap"));
    expect(nano.info).toMatchObject({ format: "pcap", linkType: 1, nanosecond: true, frames: 179, bytes: 69000 });
    expect(micro.info).toMatchObject({ nanosecond: false, frames: 179, bytes: 69000 });
    expect(nano.frames[1].tsNs).toBe(1278472579_467465137n); // tshark: 1278472579.467465137
    expect(micro.frames[1].tsNs).toBe(1278472579_467465000n);
    expect(nano.frames.map((f) => f.data)).toEqual(micro.frames.map((f) => f.data));
    expect((await readAllStream(join(SHARED, "conformance/tcpreplay-test_nano.pcap"))).frames).toEqual(nano.frames);
  });
  it("reads every file in pcapng/, agreeing with tshark where we checked", () => {
    const dir = join(SHARED, "pcapng");
    const files = readdirSync(dir).filter((f) => f.endsWith(".pcapng"));
    expect(files.length).toBe(45);
    const seen: Record<string, ReturnType<typeof readAll>> = {};
    for (const f of files) seen[f] = readAll(join(dir, f));
    expect(seen["of13_ericsson.pcapng"].info.frames).toBe(174);
    expect(seen["of13_ericsson.pcapng"].frames[0].tsNs).toBe(1382197969_322823000n);
    expect(seen["of13_ericsson.pcapng"].frames[0].data.length).toBe(250);
    expect(seen["vsock-1.pcapng"].frames[0].tsNs).toBe(1499949071_261679299n);
    expect(seen["vsock-1.pcapng"].info).toMatchObject({ linkType: 271, nanosecond: true, frames: 10 });
    expect(seen["icmp-length-zero.pcapng"].frames[0].tsNs).toBe(1759756153_000001000n);
    expect(seen["time_2107.pcapng"].frames[0].tsNs).toBe(4323283200_000000000n); // past 2106: 64-bit pcapng time
    expect(seen["empty.pcapng"].info).toMatchObject({ linkType: 1, frames: 0 });
    expect(seen["msnlb2.pcapng"].info).toMatchObject({ snapLen: 20, frames: 2, bytes: 40 });
  });
  it("malformed/: every file reads or fails with a CaptureError, the same from both pcap readers", async () => {
    const dir = join(SHARED, "malformed");
    const outcome = (e: unknown) => (e instanceof CaptureError ? e.message : `not a CaptureError: ${String(e)}`);
    let failed = 0;
    for (const f of readdirSync(dir)) {
      const file = join(dir, f);
      let a = "ok";
      let b = "ok";
      try { readCaptureFile(file, () => {}); } catch (e) { a = outcome(e); }
      try { await readPcapStream(file, () => {}); } catch (e) { b = outcome(e); }
      expect(b, f).toBe(a);
      expect(a, f).not.toMatch(/^not a CaptureError/);
      if (a !== "ok") failed++;
    }
    // 24 files hold records longer than their snap length: read, as libpcap and tshark read
    // them; none of the rest is unreadable to both readers.
    expect(failed).toBe(0);
  });
});
