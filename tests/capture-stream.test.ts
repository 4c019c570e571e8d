// openCaptureStream: bounded batches that the caller owns, rewind for --loop, errors mid-stream.
import { describe, it, expect } from "vitest";
import { openCaptureStream, CaptureError, PcapWriter } from "../src/capture/index.js";
import * as B from "./capture-bytes.js";
import { join } from "node:path";

/** Frame i carries i in its first 4 bytes: a self-checking sequence. */
function seqFile(count: number, size: number, le = true): string {
  const recs = Array.from({ length: count }, (_, i) => {
    const d = Buffer.alloc(size, 0xa5);
    d.writeUInt32BE(i, 0);
    return B.pcapRecord(d, { le, sec: i });
  });
  return B.tmpFile(Buffer.concat([B.pcapHeader({ le }), ...recs]));
}

describe("openCaptureStream", () => {
  it("hands out batches of at most maxFrames, in order, then an empty one", () => {
    const s = openCaptureStream(seqFile(2500, 64));
    const sizes: number[] = [];
    const seq: number[] = [];
    for (let b = s.nextBatch(1000); b.length > 0; b = s.nextBatch(1000)) {
      sizes.push(b.length);
      for (const f of b) seq.push(Buffer.from(f.data).readUInt32BE(0));
    }
    expect(sizes).toEqual([1000, 1000, 500]);
    expect(seq).toEqual(Array.from({ length: 2500 }, (_, i) => i));
    expect(s.info.frames).toBe(2500);
    expect(s.nextBatch()).toEqual([]);
    s.close();
  });
  it("stops a batch once it holds maxBytes, and batch frames stay valid after later reads", () => {
    const s = openCaptureStream(seqFile(100, 1000));
    const first = s.nextBatch(1000, 4500);
    expect(first.length).toBe(5); // 5000 ≥ 4500 after the fifth
    const rest = s.nextBatch(1000, 1 << 20);
    expect(rest.length).toBe(95);
    expect(first.map((f) => Buffer.from(f.data).readUInt32BE(0))).toEqual([0, 1, 2, 3, 4]);
    expect(first[4].data.every((v, i) => i < 4 || v === 0xa5)).toBe(true);
    s.close();
  });
  it("pull passes views and counts; rewind starts over", () => {
    const s = openCaptureStream(seqFile(10, 80, false));
    const seen: number[] = [];
    expect(s.pull(4, (f) => seen.push(Buffer.from(f.data).readUInt32BE(0)))).toBe(4);
    expect(s.pull(100, (f) => seen.push(Buffer.from(f.data).readUInt32BE(0)))).toBe(6);
    expect(s.pull(100, () => {})).toBe(0);
    s.rewind();
    expect(s.pull(2, (f) => seen.push(Buffer.from(f.data).readUInt32BE(0)))).toBe(2);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    s.close();
  });
  it("streams pcapng across sections and byte orders", () => {
    const file = B.tmpFile(Buffer.concat([
      B.shb(true), B.idb(1, 0, true), B.epb(0, 1n, Buffer.from("a")), B.epb(0, 2n, Buffer.from("b")),
      B.shb(false), B.idb(1, 0, false), B.spb(1, Buffer.from("c"), false), B.epb(0, 3n, Buffer.from("d"), false),
    ]));
    const s = openCaptureStream(file);
    const got = [...s.nextBatch(3), ...s.nextBatch(3)].map((f) => [Buffer.from(f.data).toString(), f.tsNs]);
    expect(got).toEqual([["a", 1000n], ["b", 2000n], ["c", 2000n], ["d", 3000n]]);
    expect(s.info).toMatchObject({ format: "pcapng", sections: 2, frames: 4 });
    s.close();
  });
  it("reports a corrupt record when the batch reaches it, after the good ones", () => {
    const file = B.tmpFile(Buffer.concat([B.pcapHeader(), B.pcapRecord(Buffer.alloc(10)), B.pcapRecord(Buffer.alloc(10)), B.pcapRecord(Buffer.alloc(2), { incl: 12 })]));
    const s = openCaptureStream(file);
    expect(s.nextBatch(2).length).toBe(2);
    expect(() => s.nextBatch(2)).toThrow(new CaptureError(file, 76, "record of 12 bytes cut short: 10 bytes missing", true));
    s.close();
  });
  it("reads a capture many times its window in bounded memory", () => {
    const file = join(B.dir, "big.pcap");
    const w = new PcapWriter(file);
    const frame = Buffer.alloc(1514, 0x5a);
    for (let i = 0; i < 16000; i++) w.write(frame, BigInt(i)); // ~24 MiB, 24 windows
    w.close();
    const s = openCaptureStream(file);
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let n = 0;
    // pull hands out views, so any growth would be the reader's own buffering.
    for (let k = s.pull(256, () => n++); k > 0; k = s.pull(256, () => n++)) {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
    }
    s.close();
    expect(n).toBe(16000);
    expect(peak).toBeLessThan(4 << 20); // the file is 24 MiB; the reader holds one 1 MiB window
  });
});
