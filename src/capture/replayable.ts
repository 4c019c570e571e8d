// What the replay reads: a capture's frames as Ethernet frames, whatever the field's tools wrote.
// Wraps any FrameSource and
//   - relinks frames of Linux cooked, raw IP and loopback captures (./relink.ts), counted;
//   - skips and counts frames on a pcapng interface whose link type cannot become Ethernet,
//     when the section also declares one that can (a merged capture); refuses the file in one
//     line when the packet's section has none (an 802.11 capture is not a thing vnic sends);
//   - counts frames the snap length cut (their original length travels with them);
//   - ends cleanly at a damaged or partial last record (the capture of a killed tcpdump): the
//     complete records before it replay and `damagedTail` says where and what; with `strict`
//     the damage is the CaptureError it always was.

import { CaptureError, CaptureFrame, CaptureInfo, FrameSource, LINKTYPE_ETHERNET } from "./types.js";
import { linkTypeName } from "./linktype.js";
import { reasons } from "./reasons.js";
import { isRelinkable, isReplayableLinkType, relinkFrame } from "./relink.js";

export interface ReadCounts {
  /** Frames given an Ethernet header. */
  relinked: number;
  /** Frames skipped: their link layer cannot become Ethernet (a mixed pcapng, SLL carrying LLC). */
  skippedLinkType: number;
  /** Frames the capture's snap length cut (captured < original length). */
  truncated: number;
  /** Where the file's damaged or partial end starts, and what is wrong there. */
  damagedTail?: { offset: number; reason: string };
}

export interface ReplayableOptions {
  /** Refuse a damaged or partial last record instead of ending before it. */
  strict?: boolean;
  /**
   * The frames will be written to a pcap (--out): refuse a timestamp past 2106 before the run,
   * with the message the JS writer gives (the core's writer would have to saturate it).
   */
  pcapTimestamps?: boolean;
}

/** First nanosecond pcap's u32 seconds cannot hold. */
const PCAP_END_NS = 0x100000000n * 1_000_000_000n;

export function emptyReadCounts(): ReadCounts {
  return { relinked: 0, skippedLinkType: 0, truncated: 0 };
}

export class ReplayableSource implements FrameSource {
  readonly counts = emptyReadCounts();
  private ended = false;

  constructor(
    private readonly src: FrameSource,
    private readonly file: string,
    private readonly opts: ReplayableOptions = {},
  ) {
    refuseUnreplayable(src, file);
  }

  get info(): CaptureInfo {
    return this.src.info;
  }

  next(): CaptureFrame | null {
    while (!this.ended) {
      const f = this.pull();
      if (f === null) return null;
      const out = this.toEthernet(f);
      if (out === null) continue;
      if (out.origLen > out.data.length) this.counts.truncated++;
      if (this.opts.pcapTimestamps && out.tsNs >= PCAP_END_NS) {
        throw new CaptureError(this.file, f.offset ?? 0, `frame ${this.src.info.frames}: ${reasons.timestampPastPcap(out.tsNs)}; replay it without --out`);
      }
      return out;
    }
    return null;
  }

  close(): void {
    this.src.close();
  }

  private pull(): CaptureFrame | null {
    try {
      const f = this.src.next();
      if (f === null) this.ended = true;
      return f;
    } catch (e) {
      if (!(e instanceof CaptureError) || !e.atEndOfFile || this.opts.strict) throw e;
      this.ended = true;
      this.counts.damagedTail = { offset: e.offset, reason: e.reason };
      return null;
    }
  }

  private toEthernet(f: CaptureFrame): CaptureFrame | null {
    const linkType = f.linkType ?? this.src.info.linkType;
    if (linkType === LINKTYPE_ETHERNET) return f;
    if (isRelinkable(linkType)) {
      const data = relinkFrame(linkType, f.data);
      if (data === null) {
        this.counts.skippedLinkType++;
        return null;
      }
      this.counts.relinked++;
      return { data, tsNs: f.tsNs, origLen: f.origLen + data.length - f.data.length, linkType: LINKTYPE_ETHERNET };
    }
    if (this.src.declaredLinkTypes?.().some(isReplayableLinkType)) {
      this.counts.skippedLinkType++;
      return null;
    }
    throw unreplayable(this.file, f.linkTypeAt ?? this.src.info.linkTypeAt ?? 0, linkType, this.src.info.format === "pcapng");
  }
}

/** A capture whose every declared link type is foreign is refused before anything runs. */
function refuseUnreplayable(src: FrameSource, file: string): void {
  const info = src.info;
  if (info.fcsBytes) throw new CaptureError(file, 0, `frames carry a ${info.fcsBytes}-byte FCS; vnic transmits Ethernet frames without FCS`);
  const declared = src.declaredLinkTypes?.() ?? (info.linkType >= 0 ? [info.linkType] : []);
  if (declared.length > 0 && !declared.some(isReplayableLinkType)) {
    throw unreplayable(file, info.linkTypeAt ?? 0, declared[0], info.format === "pcapng");
  }
}

function unreplayable(file: string, at: number, linkType: number, pcapng: boolean): CaptureError {
  const what = pcapng ? "the interface's link type" : "link type";
  return new CaptureError(file, at, `${what} ${linkTypeName(linkType)} is not Ethernet and cannot be made Ethernet ` +
    `(vnic relinks Linux cooked, raw IP and BSD loopback captures)`);
}
