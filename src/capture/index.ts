// The capture API the rest of vnic uses.
export * from "./types.js";
export { readPcapFile, PcapWriter, PCAP_MAGIC_US, PCAP_MAGIC_NS, MAX_RECORD, type PcapWriterOptions } from "./pcap.js";
export { linkTypeName, requireEthernet } from "./linktype.js";
export { openFrameSource, openCaptureStream, CaptureStream } from "./stream.js";
export { readPcapStream } from "./parser-stream.js";
import { openFrameSource } from "./stream.js";
import type { CaptureFrame, CaptureInfo } from "./types.js";

/**
 * Reads any supported capture file (classic pcap in either byte order and either precision,
 * or pcapng), calling `onFrame` for each frame in order; `f.data` is a view, valid only
 * during the call. Throws CaptureError on the first fault, after the frames before it.
 *
 * Why our own reader and not pcap-parser here: this entry point must be synchronous (the
 * replay preloads before starting its threads), pcap-parser is event-driven and cannot be;
 * it knows neither the nanosecond magic nor pcapng; and on this machine our reader ingests
 * about 4x more packets per second (bench/capture-ingest.ts: 64-byte frames, median of 5
 * interleaved runs, ~4.6 Mpps vs ~1.1 Mpps). pcap-parser stays available as readPcapStream.
 */
export function readCaptureFile(file: string, onFrame: (f: CaptureFrame) => void): CaptureInfo {
  const src = openFrameSource(file);
  try {
    for (let f = src.next(); f !== null; f = src.next()) onFrame(f);
    return src.info;
  } finally {
    src.close();
  }
}
