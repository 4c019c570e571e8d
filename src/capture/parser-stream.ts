// A streaming, asynchronous classic-pcap reader built on pcap-parser, behind the same small reader
// interface as our own readers. pcap-parser knows only the microsecond magic and buffers whatever
// a record header promises, so we
//   - read and check the 24-byte file header ourselves (same errors as the native reader),
//   - hand pcap-parser a stream whose header carries the µs magic of the same byte order (the
//     record layout of nanosecond pcap is identical; only the fraction's unit differs), and
//   - check every record length in its 'packetHeader' event, before the body is buffered,
//     destroying the input on a corrupt one, so memory stays at about one record plus a chunk.

import { open, stat } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import pcapParser, { type PacketHeader } from "pcap-parser";
import { CaptureError, CaptureFrame, CaptureInfo } from "./types.js";
import { parsePcapHeader, checkRecordLength, GLOBAL_HEADER, RECORD_HEADER, PCAP_MAGIC_US } from "./pcap.js";
import { reasons } from "./reasons.js";

async function readHead(file: string): Promise<{ head: Buffer; have: number; size: number }> {
  const size = (await stat(file)).size;
  const fh = await open(file, "r");
  try {
    const head = Buffer.alloc(GLOBAL_HEADER);
    const { bytesRead } = await fh.read(head, 0, GLOBAL_HEADER, 0);
    return { head, have: bytesRead, size };
  } finally {
    await fh.close();
  }
}

/** The file as pcap-parser should see it: the header rewritten to the µs magic, then the records. */
function patchedStream(file: string, head: Buffer, littleEndian: boolean): Readable {
  const h = Buffer.from(head);
  if (littleEndian) h.writeUInt32LE(PCAP_MAGIC_US, 0);
  else h.writeUInt32BE(PCAP_MAGIC_US, 0);
  async function* chain() {
    yield h;
    yield* createReadStream(file, { start: GLOBAL_HEADER });
  }
  return Readable.from(chain(), { objectMode: false });
}

/** Reads a classic pcap file through pcap-parser, calling `onFrame` for each record in order. */
export async function readPcapStream(file: string, onFrame: (f: CaptureFrame) => void): Promise<CaptureInfo> {
  const { head, have, size } = await readHead(file);
  const h = parsePcapHeader(file, head, have);
  const info: CaptureInfo = { format: "pcap", linkType: h.linkType, nanosecond: h.nanosecond, snapLen: h.snapLen, frames: 0, bytes: 0 };
  if (h.fcsBytes !== undefined) info.fcsBytes = h.fcsBytes;
  const input = patchedStream(file, head, h.littleEndian);
  const parser = pcapParser.parse(input);
  const fracToNs = h.nanosecond ? 1n : 1000n;

  return new Promise<CaptureInfo>((resolve, reject) => {
    let offset = GLOBAL_HEADER; // file offset of the record being parsed
    let pending = -1; // incl_len of a record whose header was seen and body not yet
    let done = false;
    const fail = (e: unknown) => {
      if (done) return;
      done = true;
      input.destroy();
      reject(e);
    };
    parser.on("packetHeader", (rh: PacketHeader) => {
      if (done) return;
      const bad = checkRecordLength(rh.capturedLength, h.snapLen);
      if (bad) fail(new CaptureError(file, offset, bad));
      else pending = rh.capturedLength;
    });
    parser.on("packet", (pkt: { header: PacketHeader; data: Buffer }) => {
      if (done) return;
      const { header: rh, data } = pkt;
      try {
        onFrame({ data, tsNs: BigInt(rh.timestampSeconds) * 1_000_000_000n + BigInt(rh.timestampMicroseconds) * fracToNs, origLen: rh.originalLength });
      } catch (e) {
        fail(e);
        return;
      }
      info.frames++;
      info.bytes += data.length;
      offset += RECORD_HEADER + pending;
      pending = -1;
    });
    parser.on("error", (e: Error) => fail(new CaptureError(file, offset, e.message)));
    parser.on("end", () => {
      if (done) return;
      const left = size - offset;
      if (pending >= 0) fail(new CaptureError(file, offset, reasons.recordShort(pending, RECORD_HEADER + pending - left), true));
      else if (left > 0) fail(new CaptureError(file, offset, reasons.recordHeaderShort(left), true));
      else {
        done = true;
        resolve(info);
      }
    });
  });
}
