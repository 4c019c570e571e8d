// Streaming replay, host side: keeps the arena ring (assembly/guest/arena.ts) filled from a capture
// too large to preload, on the main thread, in bounded memory.
//
// The feeder pulls only as many frames as the free space holds at their largest (plus a wrap's
// waste), so a frame pulled from the file always has a place (nothing is buffered here), and
// publishes the new head with one atomic store per fill.

import type { Core } from "../core/core.js";
import { CaptureStream, MAX_RECORD } from "../capture/index.js";

const RECORD_HEADER = 16;
const LARGEST_RECORD = RECORD_HEADER + MAX_RECORD;

export class ArenaFeeder {
  private readonly base: number;
  private readonly size: number;
  private readonly headAt: number;
  private readonly tailAt: number;
  private readonly eofAt: number;
  private readonly guestSleepingAt: number;
  private readonly guestBellAt: number;
  private readonly wrap: number;
  private head = 0;
  private loopsLeft: number;
  /** Frames written into the arena so far (all loops). */
  framesFed = 0;
  /** Frames in one pass over the file (known after the first pass). */
  framesPerPass = 0;
  done = false;

  constructor(
    private readonly core: Core,
    private readonly stream: CaptureStream,
    loops: number,
  ) {
    this.base = core.constant("arenaBase");
    this.size = core.exports.regionBytes(core.constant("REGION_ARENA")) >>> 0;
    this.headAt = core.constant("ARENA_HEAD") >> 2;
    this.tailAt = core.constant("ARENA_TAIL") >> 2;
    this.eofAt = core.constant("ARENA_EOF") >> 2;
    this.guestSleepingAt = core.constant("STATE_GUEST_SLEEPING") >> 2;
    this.guestBellAt = core.constant("STATE_GUEST_DOORBELL") >> 2;
    this.wrap = core.constant("ARENA_WRAP");
    this.loopsLeft = loops;
    if (this.size < 4 * LARGEST_RECORD || (this.size & (this.size - 1)) !== 0) {
      throw new Error(`vnic: the streaming arena must be a power of two of at least ${4 * LARGEST_RECORD} bytes`);
    }
  }

  private free(i32: Int32Array): number {
    const tail = Atomics.load(i32, this.tailAt) >>> 0;
    return this.size - ((this.head - tail) >>> 0);
  }

  /** Writes as many records as fit; returns how many. Throws CaptureError on a bad file. */
  fill(): number {
    if (this.done) return 0;
    const i32 = new Int32Array(this.core.memory.buffer);
    const view = this.core.view;
    const u8 = this.core.u8;
    let written = 0;
    for (;;) {
      // Each pulled frame is at most LARGEST_RECORD (+ a wrap's waste, under one more record).
      const room = Math.min(64, Math.floor(this.free(i32) / LARGEST_RECORD) - 2);
      if (room < 1) break;
      const n = this.stream.pull(room, (f) => {
        let pos = this.head & (this.size - 1);
        const need = RECORD_HEADER + ((f.data.length + 7) & ~7);
        if (pos + need > this.size) {
          view.setUint32(this.base + pos, this.wrap, true);
          this.head = (this.head + this.size - pos) >>> 0;
          pos = 0;
        }
        const at = this.base + pos;
        view.setUint32(at, f.data.length, true);
        view.setUint32(at + 4, f.origLen, true);
        view.setBigUint64(at + 8, f.tsNs, true);
        u8.set(f.data, at + RECORD_HEADER);
        this.head = (this.head + need) >>> 0;
      });
      written += n;
      if (n === 0) {
        if (this.framesPerPass === 0) this.framesPerPass = this.framesFed + written;
        if (--this.loopsLeft > 0 && this.framesPerPass > 0) {
          this.stream.rewind();
          continue;
        }
        this.done = true;
        break;
      }
    }
    this.framesFed += written;
    Atomics.store(i32, this.headAt, this.head | 0);
    if (this.done) Atomics.store(i32, this.eofAt, 1);
    if (written > 0 || this.done) this.wakeGuest(i32);
    return written;
  }

  /**
   * A guest that found the arena empty may be asleep on its doorbell: ring it, or it would
   * wait out its sleep timeout (20 ms) with frames ready. The guest sets its sleeping flag and
   * then re-checks the arena (assembly/guest/guest.ts guestPrepareSleep); we published head, then
   * read the flag — both sequentially consistent, so one of the two sees the other.
   */
  private wakeGuest(i32: Int32Array): void {
    if (Atomics.load(i32, this.guestSleepingAt) === 0) return;
    Atomics.add(i32, this.guestBellAt, 1);
    Atomics.notify(i32, this.guestBellAt, 1);
  }
}
