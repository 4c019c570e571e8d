// The capture I/O contract the rest of vnic uses. Readers and writers live beside this file.

/** One captured frame. `data` may be a view into a reusable buffer: copy it if you keep it. */
export interface CaptureFrame {
  data: Uint8Array;
  /** Capture timestamp, nanoseconds since the Unix epoch. */
  tsNs: bigint;
  /** Length of the frame on the wire when captured (≥ data.length when the snap length cut it). */
  origLen: number;
  /** File offset of the frame's record or block (for messages about it). */
  offset?: number;
  /** pcapng: the link type of the packet's interface (absent: the file's, CaptureInfo.linkType). */
  linkType?: number;
  /** pcapng: file offset of that interface's description block. */
  linkTypeAt?: number;
}

export interface CaptureInfo {
  format: "pcap" | "pcapng";
  /**
   * LINKTYPE_* (1 = Ethernet), the low 16 bits of the pcap LinkType field. -1 when a pcapng
   * file declares no interface at all (it then holds no packets either).
   */
  linkType: number;
  /** File offset of the structure that declares the link type: the pcap global header (0), or
   *  the pcapng Interface Description Block. Errors about the link type point there. */
  linkTypeAt?: number;
  /** True when the file stored timestamps finer than a microsecond (ns pcap, or a pcapng if_tsresol finer than 10^-6). */
  nanosecond: boolean;
  /** Snap length of the file (pcap) or of its first interface (pcapng); 0 means "not given". */
  snapLen: number;
  /** Frames read so far (all of them once a read has finished). */
  frames: number;
  /** Captured bytes read so far (sum of data.length). */
  bytes: number;
  /** Bytes of frame check sequence at the end of every frame, when the pcap header says (draft-ietf-opsawg-pcap §4, FCS len). */
  fcsBytes?: number;
  /** pcapng: number of section header blocks seen so far. */
  sections?: number;
}

/**
 * A capture that cannot be read: one line naming the file, the byte offset and what is wrong.
 * `offset` is where the faulty structure starts (the global header, the record or the block),
 * so a user can `xxd -s OFFSET` straight to it.
 */
export class CaptureError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
    /** True when the fault is the file ending inside a record or block (a partial last record). */
    readonly atEndOfFile = false,
  ) {
    super(`${file}: at byte ${offset}: ${reason}`);
    this.name = "CaptureError";
  }
}

export const LINKTYPE_ETHERNET = 1;

/** Largest frame any reader accepts whatever the snap length says (libpcap's MAXIMUM_SNAPLEN, 256 KiB). */
export const MAX_RECORD = 262144;

/** A pull reader over one capture file. Readers never buffer more than one window of the file. */
export interface FrameSource {
  /** What is known about the file so far; frames/bytes grow as frames are read. */
  readonly info: CaptureInfo;
  /** The next frame, or null at a clean end of file. `data` is valid until the next call. Throws CaptureError. */
  next(): CaptureFrame | null;
  /** pcapng: the link types of the interfaces the current section declares so far. */
  declaredLinkTypes?(): number[];
  close(): void;
}
