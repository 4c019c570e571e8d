// Where the device thread's time goes: the backend (translation, partial copy, LSO stage 1)
// versus the physical NIC model (gather onto the wire, checksums, LSO stage 2, completions).
//
// Why it exists: in vnic the NIC model runs on the device thread, so its DMA — reading every
// byte of every frame onto the wire — is CPU work that a real NIC does in hardware. The partial
// copy (issue 3; US 7,657,659) saves *host* CPU, so its figure is the backend's cost per
// packet, which this measures inside an ordinary replay with the wire still gathered and
// verified.
//
// Sampling: every step calls the two stages separately (deviceStep is exactly these two
// calls), so the work each did is known for every step; one step in SAMPLE_EVERY is timed with
// performance.now (~30 ns a call, resolution well under a burst). Per-item cost = sampled time
// ÷ sampled items, over steps where the stage did work; the run's total for a stage is that
// cost × every item the stage handled (a ratio estimator — bursts of every size get sampled).

export const SAMPLE_EVERY = 8;

export interface DeviceTimeSplit {
  /** Steps timed, of all steps. */
  sampledSteps: number;
  /** Guest descriptors the backend took, in all steps / in timed steps with backend work. */
  backendItems: number;
  backendSampledItems: number;
  backendSampledMs: number;
  /** Physical descriptors the NIC consumed, in all steps / in timed steps with NIC work. */
  nicItems: number;
  nicSampledItems: number;
  nicSampledMs: number;
}

/** Estimated seconds a stage spent on all its items (0 when nothing was sampled). */
export function estimatedSeconds(items: number, sampledItems: number, sampledMs: number): number {
  return sampledItems > 0 ? (sampledMs / sampledItems) * items / 1000 : 0;
}

export class DeviceTimeSampler {
  readonly split: DeviceTimeSplit = {
    sampledSteps: 0,
    backendItems: 0,
    backendSampledItems: 0,
    backendSampledMs: 0,
    nicItems: 0,
    nicSampledItems: 0,
    nicSampledMs: 0,
  };
  private countdown = SAMPLE_EVERY;

  constructor(
    private readonly backend: (budget: number) => number,
    private readonly nic: (budget: number) => number,
    /** Milliseconds; a test passes its own clock. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** One device turn (the same work as the core's deviceStep); returns the work done. */
  step(budget: number): number {
    const s = this.split;
    if (--this.countdown > 0) {
      const b = this.backend(budget);
      const n = this.nic(budget);
      s.backendItems += b;
      s.nicItems += n;
      return b + n;
    }
    this.countdown = SAMPLE_EVERY;
    const t0 = this.now();
    const b = this.backend(budget);
    const t1 = this.now();
    const n = this.nic(budget);
    const t2 = this.now();
    s.sampledSteps++;
    s.backendItems += b;
    s.nicItems += n;
    if (b > 0) {
      s.backendSampledItems += b;
      s.backendSampledMs += t1 - t0;
    }
    if (n > 0) {
      s.nicSampledItems += n;
      s.nicSampledMs += t2 - t1;
    }
    return b + n;
  }
}
