// Every way a capture can be broken gets its own reason and the byte offset of the faulty
// structure, from both classic-pcap readers, after delivering the frames before it.
import { describe, it, expect } from "vitest";
import { readCaptureFile, readPcapStream, CaptureError, MAX_RECORD } from "../src/capture/index.js";
import { MAX_BLOCK } from "../src/capture/pcapng.js";
import * as B from "./capture-bytes.js";

const GOOD = B.pcapRecord(Buffer.alloc(60, 1), { sec: 1 }); // 76 bytes

/** Expects both readers to fail on `bytes` with exactly this offset and reason, after `before` frames. */
async function expectPcapError(bytes: Buffer, offset: number, reason: string, before = 0) {
  const file = B.tmpFile(bytes);
  let n = 0;
  let err: unknown;
  try { readCaptureFile(file, () => n++); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(CaptureError);
  expect(err).toMatchObject({ file, offset, reason, message: `${file}: at byte ${offset}: ${reason}` });
  expect(n).toBe(before);
  let m = 0;
  await expect(readPcapStream(file, () => m++)).rejects.toMatchObject({ name: "CaptureError", file, offset, reason });
  expect(m).toBe(before);
}
function expectNgError(bytes: Buffer, offset: number, reason: string, before = 0, atEndOfFile = false) {
  const file = B.tmpFile(bytes);
  let n = 0;
  expect(() => readCaptureFile(file, () => n++)).toThrow(new CaptureError(file, offset, reason, atEndOfFile));
  expect(n).toBe(before);
}

describe("classic pcap errors", () => {
  const H = B.pcapHeader({ snap: 65535 });
  it("empty file", () => expectPcapError(Buffer.alloc(0), 0, "empty file, not a capture"));
  it("bad magic", () => expectPcapError(Buffer.from("GIF89a and then some more bytes"), 0, "not a pcap or pcapng file (magic 0x47494638)"));
  it("truncated global header", () => expectPcapError(H.subarray(0, 10), 0, "pcap global header cut short: 10 of 24 bytes"));
  it("unsupported version", () => expectPcapError(B.pcapHeader({ major: 1 }), 0, "unsupported pcap version 1.4 (expected 2.x)"));
  it("truncated record header", () => expectPcapError(Buffer.concat([H, GOOD, Buffer.alloc(7)]), 100, "record header cut short: 7 of 16 bytes", 1));
  it("truncated record body, with the number of missing bytes", () =>
    expectPcapError(Buffer.concat([H, GOOD, GOOD.subarray(0, 66)]), 100, "record of 60 bytes cut short: 10 bytes missing", 1));
  it("incl_len above the snap length is read, as libpcap and tshark read it", async () => {
    const file = B.tmpFile(Buffer.concat([B.pcapHeader({ snap: 64 }), B.pcapRecord(Buffer.alloc(64)), B.pcapRecord(Buffer.alloc(65))]));
    expect(readCaptureFile(file, () => {})).toMatchObject({ frames: 2, bytes: 129 });
    expect(await readPcapStream(file, () => {})).toMatchObject({ frames: 2, bytes: 129 });
  });
  it("incl_len above 256 KiB whatever the snap length", async () => {
    const over = B.pcapRecord(Buffer.alloc(0), { incl: MAX_RECORD + 1 });
    await expectPcapError(Buffer.concat([B.pcapHeader({ snap: 0xffffffff }), GOOD, over]), 100, "record length 262145 exceeds the 262144-byte limit", 1);
    await expectPcapError(Buffer.concat([B.pcapHeader({ snap: 0 }), over]), 24, "record length 262145 exceeds the 262144-byte limit");
  });
  it("incl_len of 2^31", () =>
    expectPcapError(Buffer.concat([H, GOOD, GOOD, B.pcapRecord(Buffer.alloc(0), { incl: 2 ** 31 })]), 176, "record length 2147483648 (0x80000000) has the top bit set: a corrupt length", 2));
  it("accepts snap length 0 (not given), a tiny snap length, and one above 256 KiB", async () => {
    for (const [snap, size] of [[0, 9000], [4, 4], [0xffffffff, 70000], [MAX_RECORD, MAX_RECORD]]) {
      const file = B.tmpFile(Buffer.concat([B.pcapHeader({ snap }), B.pcapRecord(Buffer.alloc(size, 3))]));
      expect(readCaptureFile(file, () => {})).toMatchObject({ frames: 1, bytes: size, snapLen: snap });
      expect(await readPcapStream(file, () => {})).toMatchObject({ frames: 1, bytes: size });
    }
  });
});

describe("pcapng errors", () => {
  const HEAD = Buffer.concat([B.shb(), B.idb(1, 0)]); // 48 bytes
  const EPB = B.epb(0, 0n, Buffer.alloc(4)); // 36 bytes
  it("block length that does not match its trailer", () =>
    expectNgError(Buffer.concat([HEAD, EPB, B.block(6, EPB.subarray(8, 32), true, undefined, 40)]), 84, "block length 36 does not match its trailing length 40", 1));
  it("block length not a multiple of 4", () =>
    expectNgError(Buffer.concat([HEAD, B.block(6, EPB.subarray(8, 32), true, 38)]), 48, "block length 38 is not a multiple of 4"));
  it("block length below the minimum", () =>
    expectNgError(Buffer.concat([HEAD, B.block(6, EPB.subarray(8, 32), true, 8)]), 48, "block length 8 is below the 12-byte minimum"));
  it("block past the end of the file, however large its length", () => {
    expectNgError(Buffer.concat([HEAD, EPB, EPB.subarray(0, 30)]), 84, "block of 36 bytes runs past the end of the file: 6 bytes missing", 1, true);
    expectNgError(Buffer.concat([HEAD, B.block(6, EPB.subarray(8, 32), true, 0x7ffffff0)]), 48, "block of 2147483632 bytes runs past the end of the file: 2147483596 bytes missing", 0, true);
  });
  it("block header cut short", () => expectNgError(Buffer.concat([HEAD, EPB, Buffer.alloc(6)]), 84, "block header cut short: 6 of 12 bytes", 1, true));
  it("block too long to be a packet we could send", () => {
    const big = B.epb(0, 0n, Buffer.alloc(MAX_BLOCK - 28));
    expectNgError(Buffer.concat([HEAD, big]), 48, `block type 0x00000006 of ${MAX_BLOCK + 4} bytes exceeds the ${MAX_BLOCK}-byte limit`);
  });
  it("bad byte-order magic", () => {
    const shb = B.shb();
    shb.writeUInt32LE(0x11223344, 8);
    expectNgError(shb, 0, "section header byte-order magic 0x44332211 is neither 0x1a2b3c4d nor 0x4d3c2b1a");
  });
  it("unsupported pcapng version", () => expectNgError(B.shb(true, 2), 0, "unsupported pcapng version 2.0 (expected 1.x)"));
  it("captured length above the interface snap length is read; 2^31 is refused", () => {
    expect(readCaptureFile(B.tmpFile(Buffer.concat([B.shb(), B.idb(1, 10), B.epb(0, 0n, Buffer.alloc(10)), B.epb(0, 0n, Buffer.alloc(11))])), () => {}))
      .toMatchObject({ frames: 2, bytes: 21 }); // above the snap length: read, as libpcap does
    expectNgError(Buffer.concat([HEAD, B.epb(0, 0n, Buffer.alloc(4), true, { incl: 2 ** 31 })]), 48, "record length 2147483648 (0x80000000) has the top bit set: a corrupt length");
  });
  it("captured length past the end of its block", () =>
    expectNgError(Buffer.concat([HEAD, B.epb(0, 0n, Buffer.alloc(4), true, { incl: 100 })]), 48, "captured length 100 runs past the end of its block (4 bytes of room)"));
  it("packet before any interface", () => expectNgError(Buffer.concat([B.shb(), EPB]), 28, "packet refers to interface 0 but the section declares 0"));
  it("simple packet block without interface 0", () => expectNgError(Buffer.concat([B.shb(), B.spb(4, Buffer.alloc(4))]), 28, "packet refers to interface 0 but the section declares 0"));
  it("a block too short for its fixed part", () =>
    expectNgError(Buffer.concat([HEAD, B.block(6, Buffer.alloc(8))]), 48, "packet block of 20 bytes is too short for its 32-byte fixed part"));
});
