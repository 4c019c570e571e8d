// Opening any capture file by its first bytes, and pulling its frames in bounded batches
// for replays of captures too large to preload.

import { CaptureFrame, CaptureInfo, FrameSource } from "./types.js";
import { FileWindow } from "./window.js";
import { PcapSource } from "./pcap.js";
import { PcapngSource, BT_SHB } from "./pcapng.js";
import { ReadCounts, ReplayableOptions, ReplayableSource } from "./replayable.js";

/** Opens `file` as pcapng when it starts with a Section Header Block, else as classic pcap. */
export function openFrameSource(file: string): FrameSource {
  const win = new FileWindow(file);
  try {
    const pcapng = win.size >= 4 && win.buf.readUInt32LE(win.at(0, 4)) === BT_SHB; // palindromic type
    return pcapng ? new PcapngSource(win) : new PcapSource(win);
  } catch (e) {
    win.close();
    throw e;
  }
}

/** Opens `file` for replay: Ethernet frames, relinked or skipped as ./replayable.ts says. */
export function openReplayableSource(file: string, opts: ReplayableOptions = {}): ReplayableSource {
  const src = openFrameSource(file);
  try {
    return new ReplayableSource(src, file, opts);
  } catch (e) {
    src.close();
    throw e;
  }
}

/** Default batch bounds: a few MiB whatever the file size. */
export const BATCH_FRAMES = 1024;
export const BATCH_BYTES = 4 << 20;

/**
 * A capture read in batches. Memory is one read window (1 MiB) plus the batch being handed
 * out; nothing else grows with the file.
 */
export class CaptureStream {
  private src: FrameSource;
  private ended = false;
  /** Replayable streams (`replay` given): what the first pass over the file found. */
  readonly counts?: ReadCounts;

  constructor(
    readonly file: string,
    private readonly replay?: ReplayableOptions,
  ) {
    this.src = this.open();
    if (this.src instanceof ReplayableSource) this.counts = this.src.counts;
  }

  private open(): FrameSource {
    return this.replay ? openReplayableSource(this.file, this.replay) : openFrameSource(this.file);
  }

  /** Format, link type, timestamp precision; frames/bytes count what has been pulled so far. */
  get info(): CaptureInfo {
    return this.src.info;
  }

  /**
   * Calls `onFrame` with up to `maxFrames` frames (views valid only during the call: copy them
   * into your arena); returns how many, 0 at the end of the file. Throws CaptureError.
   */
  pull(maxFrames: number, onFrame: (f: CaptureFrame) => void): number {
    let n = 0;
    while (n < maxFrames && !this.ended) {
      const f = this.src.next();
      if (f === null) this.ended = true;
      else {
        onFrame(f);
        n++;
      }
    }
    return n;
  }

  /**
   * Up to `maxFrames` frames that the caller owns (copied into one buffer per batch), stopping
   * once `maxBytes` are held (one frame may cross it; a frame is at most 256 KiB). Empty at the end.
   */
  nextBatch(maxFrames = BATCH_FRAMES, maxBytes = BATCH_BYTES): CaptureFrame[] {
    const out: CaptureFrame[] = [];
    let bytes = 0;
    while (out.length < maxFrames && bytes < maxBytes && !this.ended) {
      const f = this.src.next();
      if (f === null) this.ended = true;
      else {
        out.push({ data: Uint8Array.prototype.slice.call(f.data), tsNs: f.tsNs, origLen: f.origLen });
        bytes += f.data.length;
      }
    }
    return out;
  }

  /** Starts again from the first frame (for --loop over a streamed capture). */
  rewind(): void {
    this.src.close();
    this.src = this.open(); // later passes count again into their own source, not into `counts`
    this.ended = false;
  }

  close(): void {
    this.src.close();
  }
}

/** Opens a capture for bounded-memory batch reading (`replay`: as the replay reads it). */
export function openCaptureStream(file: string, replay?: ReplayableOptions): CaptureStream {
  return new CaptureStream(file, replay);
}
