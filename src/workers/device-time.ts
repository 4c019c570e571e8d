// Where the device thread's time goes: the backend (translation, partial copy, LSO stage 1)
// versus the physical NIC model (gather onto the wire, checksums, LSO stage 2, completions).
//
// Why it exists: in vnic the NIC model runs on the device thread, so its DMA — reading every
// byte of every frame onto the wire — is CPU work that a real NIC does in hardware. The partial
// copy (US 7,657,659; README "Partial copy") saves *host* CPU, so its figure is the backend's cost per
// packet, which this measures inside an ordinary replay with the wire still gathered and
// verified.
//
// Sampling: every step calls the two stages separately (deviceStep is exactly these two
// calls), so the work each did is known for every step; one step in SAMPLE_EVERY is timed with
// performance.now (~30 ns a call, resolution well under a burst). Each timed step that did
// work adds its ns per item to a log-scale histogram, weighted by its items; the figure is
// the item-weighted median. A median, not total time ÷ items, because this machine is shared:
// one sampled step that the OS preempted for 4 ms would otherwise outweigh 100,000 real ones.

export const SAMPLE_EVERY = 8;

// Histogram of ns per item: HIST_SUB buckets per octave (each ~4.4% wide) from HIST_MIN_NS,
// over HIST_OCTAVES octaves (0.25 ns … 1 ms); values outside land in the end buckets.
const HIST_MIN_NS = 0.25;
const HIST_SUB = 16;
const HIST_OCTAVES = 22;
export const HIST_BUCKETS = HIST_SUB * HIST_OCTAVES;

/** One stage's samples. */
export interface StageTimeSamples {
  /** Items the stage handled in every step (guest descriptors for the backend, physical
   *  descriptors for the NIC). */
  items: number;
  /** Items in the timed steps. */
  sampledItems: number;
  /** Item-weighted counts of ns per item, HIST_BUCKETS log-scale buckets. */
  histogram: number[];
}

export interface DeviceTimeSplit {
  /** Steps timed, of all steps. */
  sampledSteps: number;
  backend: StageTimeSamples;
  nic: StageTimeSamples;
}

function emptySamples(): StageTimeSamples {
  return { items: 0, sampledItems: 0, histogram: new Array<number>(HIST_BUCKETS).fill(0) };
}

export function bucketOfNs(ns: number): number {
  if (!(ns > HIST_MIN_NS)) return 0;
  return Math.min(HIST_BUCKETS - 1, Math.floor(Math.log2(ns / HIST_MIN_NS) * HIST_SUB));
}

/** The middle (geometric) of bucket `b`, in ns. */
export function bucketMidNs(b: number): number {
  return HIST_MIN_NS * 2 ** ((b + 0.5) / HIST_SUB);
}

/** Item-weighted median ns per item, or null when no step with work was timed. */
export function medianNsPerItem(s: StageTimeSamples): number | null {
  if (s.sampledItems === 0) return null;
  let seen = 0;
  for (let b = 0; b < HIST_BUCKETS; b++) {
    seen += s.histogram[b];
    if (seen * 2 >= s.sampledItems) return bucketMidNs(b);
  }
  return bucketMidNs(HIST_BUCKETS - 1);
}

/** The split as the reports give it: ns per packet for each stage (per-item medians scaled by
 *  the items each stage handled per packet), or null when no step with work was timed. */
export function devicePerPacket(t: DeviceTimeSplit | undefined, packets: number) {
  const backend = t && packets > 0 ? medianNsPerItem(t.backend) : null;
  if (!t || backend === null) return null;
  const backendNs = (backend * t.backend.items) / packets;
  return {
    backendNsPerPacket: backendNs,
    nicNsPerPacket: ((medianNsPerItem(t.nic) ?? 0) * t.nic.items) / packets,
    backendMppsPerCore: 1e3 / backendNs,
    sampledSteps: t.sampledSteps,
  };
}

export class DeviceTimeSampler {
  readonly split: DeviceTimeSplit = { sampledSteps: 0, backend: emptySamples(), nic: emptySamples() };
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
      s.backend.items += b;
      s.nic.items += n;
      return b + n;
    }
    this.countdown = SAMPLE_EVERY;
    const t0 = this.now();
    const b = this.backend(budget);
    const t1 = this.now();
    const n = this.nic(budget);
    const t2 = this.now();
    s.sampledSteps++;
    record(s.backend, b, t1 - t0);
    record(s.nic, n, t2 - t1);
    return b + n;
  }
}

function record(s: StageTimeSamples, items: number, ms: number): void {
  s.items += items;
  if (items === 0) return;
  s.sampledItems += items;
  s.histogram[bucketOfNs((ms * 1e6) / items)] += items;
}
