// The capture API the rest of vnic uses.
export * from "./types.js";
export { readPcapFile, PcapWriter, PCAP_MAGIC_US, PCAP_MAGIC_NS, MAX_RECORD, type PcapWriterOptions } from "./pcap.js";
export { linkTypeName, requireEthernet } from "./linktype.js";
export { openFrameSource, openCaptureStream, openReplayableSource, CaptureStream } from "./stream.js";
export { ReplayableSource, emptyReadCounts, type ReadCounts, type ReplayableOptions } from "./replayable.js";
export { relinkFrame, isRelinkable, RELINK_DST, RELINK_SRC } from "./relink.js";
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
 * it knows neither the nanosecond magic nor pcapng; and it is 4-8x slower. Measured side by
 * side (bench/capture-ingest.ts, Node 20, 2 shared cores, median of 5 interleaved runs, file
 * in the page cache, two runs): 64-byte frames 8.6-10.1 Mpps native vs 2.3-2.5 Mpps through
 * pcap-parser; 1514-byte frames 5.9 Mpps vs 0.8-1.0 Mpps (pcap-parser re-concatenates its buffer on every
 * chunk and allocates per record). The preload should measure the datapath, not the parser.
 * pcap-parser stays available, streaming and async, as readPcapStream.
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
