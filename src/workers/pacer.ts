// Replay pacing, host side of the guest loop (the guest side is assembly/guest/pace.ts).
//
// Every allowance is computed from the time elapsed since the replay started, never from the
// previous packet, so scheduling jitter never accumulates into drift (tcpreplay's users see
// its per-packet sleeps drift at high rates). The guest computes it itself, once per burst,
// from the clock read its post takes anyway (assembly/guest/pace.ts guestPaceFrom): here we only
// name the rate and the start. Between frames the loop sleeps on the guest
// doorbell (an interrupt still wakes it) when the next frame is more than SPIN_BELOW_MS away,
// and spins otherwise: Atomics.wait cannot time much below a tenth of a millisecond.

import type { Core } from "../core/core.js";
import type { PaceSpec } from "../replay/pace-spec.js";

const SPIN_BELOW_MS = 0.3;
const WAKE_EARLY_MS = 0.15;

export class Pacer {
  private readonly t0 = performance.now();

  constructor(
    private readonly spec: PaceSpec,
    private readonly core: Core,
  ) {
    // The start on the core's clock (src/core/core.ts passes it as env.nowUs), in ns.
    const startNs = BigInt(Math.round((performance.timeOrigin + this.t0) * 1e6));
    const kind = ({ pps: "PACE_PPS", mbps: "PACE_MBPS", multiplier: "PACE_MULTIPLIER" } as const)[spec.kind];
    core.exports.guestPaceFrom(core.constant(kind), spec.rate, startNs);
  }

  private elapsedMs(): number {
    return performance.now() - this.t0;
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
