// The capture I/O contract the rest of vnic uses. Readers and writers live beside this file.

/** One captured frame. `data` may be a view into a reusable buffer: copy it if you keep it. */
export interface CaptureFrame {
  data: Uint8Array;
  /** Capture timestamp, nanoseconds since the Unix epoch. */
  tsNs: bigint;
  /** Length of the frame on the wire when captured (≥ data.length when the snap length cut it). */
  origLen: number;
}

export interface CaptureInfo {
  format: "pcap" | "pcapng";
  /** LINKTYPE_* (1 = Ethernet). */
  linkType: number;
  /** True when the file stored nanosecond timestamps. */
  nanosecond: boolean;
  snapLen: number;
  frames: number;
  bytes: number;
}

/** A capture that cannot be read: one line naming the file, the byte offset and what is wrong. */
export class CaptureError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`${file}: at byte ${offset}: ${reason}`);
    this.name = "CaptureError";
  }
}

export const LINKTYPE_ETHERNET = 1;
