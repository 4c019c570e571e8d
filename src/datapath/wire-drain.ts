// The main thread as the wire's consumer (assembly/nic/wire-ring.ts has the record format): either
// frame by frame into a function, or in batches into a pcap file, converted by the core
// (assembly/host/pcap-out.ts) so that a capture is written with no per-frame JavaScript.
// Either way, after draining it wakes a device that went to sleep on a full wire.

import type { Core } from "../core/core.js";

/** Receives each wire frame (a view, valid during the call) and its timestamp split into
 *  seconds and nanoseconds, and its original length (longer than data when the capture's snap
 *  length cut the frame). */
export type WireFrameSink = (data: Uint8Array, sec: number, nsec: number, origLen: number) => void;

/** Where batches of finished pcap records go (PcapWriter implements it). */
export interface PcapBatchWriter {
  readonly nanosecond: boolean;
  writeRecords(records: Uint8Array, frames: number): void;
}

abstract class Drainer {
  private readonly deviceSleeping: number;
  private readonly deviceBell: number;

  constructor(protected readonly core: Core) {
    this.deviceSleeping = core.constant("STATE_DEVICE_SLEEPING") >> 2;
    this.deviceBell = core.constant("STATE_DEVICE_DOORBELL") >> 2;
  }

  /** Moves every published frame on; returns how many. */
  abstract drain(): number;

  /** The NIC may have stopped on a full wire and gone to sleep: room is free again. */
  protected wakeDevice(): void {
    const i32 = new Int32Array(this.core.memory.buffer);
    if (Atomics.load(i32, this.deviceSleeping) !== 0) {
      Atomics.add(i32, this.deviceBell, 1);
      Atomics.notify(i32, this.deviceBell);
    }
  }
}

export class FrameDrainer extends Drainer {
  private readonly base: number;
  private readonly size: number;
  private readonly wrap: number;
  private readonly header: number;

  constructor(core: Core, private readonly sink: WireFrameSink) {
    super(core);
    this.base = core.constant("wireBase");
    this.size = core.constant("wireBytes");
    this.wrap = core.constant("WIRE_WRAP");
    this.header = core.constant("WIRE_RECORD_HEADER");
    this.gatherFlag = core.constant("WIRE_FLAG_GATHER");
  }

  private readonly gatherFlag: number;

  /** The bytes of the gather list at `list` ([u32 count][u32 0][count × (offset, length)]). */
  private gathered(list: number): Uint8Array {
    const view = this.core.view;
    const count = view.getUint32(list, true);
    const pieces: Uint8Array[] = [];
    for (let k = 0; k < count; k++) {
      const from = view.getUint32(list + 8 + 8 * k, true);
      pieces.push(this.core.u8.subarray(from, from + view.getUint32(list + 12 + 8 * k, true)));
    }
    return Buffer.concat(pieces);
  }

  drain(): number {
    const x = this.core.exports;
    const head = x.wireHead() >>> 0;
    let tail = x.wireTail() >>> 0;
    if (head === tail) return 0;
    const view = this.core.view;
    const u8 = this.core.u8;
    let frames = 0;
    while (tail !== head) {
      const pos = tail & (this.size - 1);
      const len = view.getUint32(this.base + pos, true);
      if (len === this.wrap) {
        tail = (tail + this.size - pos) >>> 0;
        continue;
      }
      const at = this.base + pos + this.header;
      // A gather list (assembly/nic/gather.ts): the frame is its pieces, copied out here, before
      // wireSetTail below lets the NIC give them back.
      const data = (view.getUint16(this.base + pos + 4, true) & this.gatherFlag) !== 0 ? this.gathered(at) : u8.subarray(at, at + len);
      this.sink(data, view.getUint32(this.base + pos + 8, true), view.getUint32(this.base + pos + 12, true), data.length + view.getUint16(this.base + pos + 6, true)); // orig extra: wire-ring.ts WIRE_RECORD_ORIG_EXTRA
      tail = (tail + this.header + ((len + 7) & ~7)) >>> 0;
      frames++;
    }
    x.wireSetTail(tail);
    this.wakeDevice();
    return frames;
  }
}

export class PcapDrainer extends Drainer {
  private readonly staging: number;

  constructor(core: Core, private readonly out: PcapBatchWriter) {
    super(core);
    this.staging = core.exports.regionBase(core.constant("REGION_STAGING")) >>> 0;
  }

  drain(): number {
    const x = this.core.exports;
    let frames = 0;
    for (;;) {
      const bytes = x.wireToPcap(this.out.nanosecond ? 1 : 0) >>> 0;
      if (bytes === 0) break;
      const n = x.pcapFrames.value >>> 0;
      this.out.writeRecords(Buffer.from(this.core.memory.buffer, this.staging, bytes), n);
      frames += n;
    }
    if (frames > 0) this.wakeDevice();
    return frames;
  }
}
