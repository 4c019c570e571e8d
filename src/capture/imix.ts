// The project's one IMIX: "simple IMIX" 7:4:1 by count, as L2 frames with their Ethernet
// header and without the FCS (the convention of --size and of every capture here): 64, 576
// and 1500 bytes. The generator (`vnic gen --kind imix`, captures/imix.pcap), the benchmark
// rigs (src/perf/bench-frames.ts, the gate) and the DPDK peer (bench/peers.ts, which weights
// runs at each size) all take it from here, so "IMIX" means the same frames everywhere.

export interface ImixPart {
  /** L2 frame length, Ethernet header included, FCS excluded. */
  size: number;
  /** Frames of this size per cycle. */
  weight: number;
}

export const IMIX: readonly ImixPart[] = [
  { size: 64, weight: 7 },
  { size: 576, weight: 4 },
  { size: 1500, weight: 1 },
];

export const IMIX_SIZES: readonly number[] = IMIX.map((p) => p.size);

// One cycle in a fixed order that spreads the larger frames out (indices into IMIX), for rigs
// that need a deterministic order without a PRNG; tests/gen.test.ts checks it is 7:4:1.
const CYCLE_ORDER = [0, 0, 1, 0, 0, 1, 0, 2, 0, 1, 0, 1];

/** The frame sizes of one IMIX cycle (12 frames) in a fixed interleaved order. */
export const IMIX_CYCLE: readonly number[] = CYCLE_ORDER.map((i) => IMIX[i].size);
