export * from "./types.js";
export { readPcapFile, PcapWriter, PCAP_MAGIC_US, PCAP_MAGIC_NS, MAX_RECORD } from "./pcap.js";
import { readPcapFile } from "./pcap.js";
import type { CaptureFrame, CaptureInfo } from "./types.js";

/** Reads any supported capture file, calling `onFrame` for each frame in order. */
export function readCaptureFile(file: string, onFrame: (f: CaptureFrame) => void): CaptureInfo {
  return readPcapFile(file, onFrame);
}
