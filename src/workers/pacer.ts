// Replay pacing, host side of the guest loop (the guest side is assembly/pace.ts).
//
// Every allowance is computed from the time elapsed since the replay started, never from the
// previous packet, so scheduling jitter never accumulates into drift (tcpreplay's users see
// its per-packet sleeps drift at high rates). Between frames the loop sleeps on the guest
// doorbell (an interrupt still wakes it) when the next frame is more than SPIN_BELOW_MS away,
// and spins otherwise: Atomics.wait cannot time much below a tenth of a millisecond.

import type { Core } from "../core.js";

export type PaceSpec =
  | { kind: "pps"; rate: number }
  | { kind: "mbps"; rate: number }
  | { kind: "multiplier"; rate: number };

const SPIN_BELOW_MS = 0.3;
const WAKE_EARLY_MS = 0.15;

export class Pacer {
  private readonly t0 = performance.now();
  private readonly setPace: (frames: bigint, bytes: bigint, captureNs: bigint) => void;
  private readonly unlimited = 0xffffffffffffffffn;

  constructor(
    private readonly spec: PaceSpec,
    private readonly core: Core,
  ) {
    this.setPace = core.exports.guestSetPace;
    this.update();
  }

  private elapsedMs(): number {
    return performance.now() - this.t0;
  }

  /** Hands the guest its allowance for now. */
  update(): void {
    const s = this.elapsedMs() / 1000;
    const u = this.unlimited;
    switch (this.spec.kind) {
      case "pps":
        return this.setPace(BigInt(Math.floor(s * this.spec.rate) + 1), u, u);
      case "mbps":
        return this.setPace(u, BigInt(Math.floor((s * this.spec.rate * 1e6) / 8) + 1), u);
      case "multiplier":
        return this.setPace(u, u, BigInt(Math.floor(s * 1e9 * this.spec.rate)));
    }
  }

  /** Milliseconds until the next frame is due (≤ 0: now). */
  msUntilDue(): number {
    const at = this.elapsedMs();
    switch (this.spec.kind) {
      case "pps":
        return (Number(this.core.counter("guestFramesOffered")) / this.spec.rate) * 1000 - at;
      case "mbps":
        return ((Number(this.core.counter("guestBytesPosted")) * 8) / (this.spec.rate * 1e6)) * 1000 - at;
      case "multiplier":
        return Number(BigInt.asUintN(64, this.core.exports.guestNextCaptureOffsetNs())) / 1e6 / this.spec.rate - at;
    }
  }

  /** Is a frame already due (the guest is behind its schedule)? */
  behind(): boolean {
    return this.msUntilDue() <= 0;
  }

  /** How long the idle guest loop should wait on its doorbell (0: spin). */
  idleWaitMs(): number {
    const due = this.msUntilDue();
    return due > SPIN_BELOW_MS ? due - WAKE_EARLY_MS : 0;
  }
}
