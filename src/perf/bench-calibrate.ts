// The calibration kernel of `vnic bench` and `vnic gate`: a fixed pure-compute loop, run on two
// threads at once (this one and a helper worker), measured right before each datapath trial.
//
// Why two threads: a datapath trial keeps two threads busy (guest and device) on this 2-core
// machine, so what slows it down — a slower CPU, or another process taking a core — slows a
// two-thread kernel the same way. Dividing packets per second by this score gives a figure
// that does not move when the machine does (a slower machine is not a regression).
//
// The kernel touches no memory (a multiply/xor-shift chain in registers), so it measures
// available compute, not the memory system the datapath is also sensitive to.

import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";

/** The loop itself. Returns its last value so the JIT cannot drop it. */
export function kernel(iterations: number): number {
  let x = 0x12345678;
  for (let i = 0; i < iterations; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) | 0;
    x ^= x >>> 13;
  }
  return x;
}

if (!isMainThread && workerData?.vnicRole === "calibrate") {
  parentPort!.on("message", (iterations: number) => {
    const t0 = performance.now();
    const v = kernel(iterations);
    parentPort!.postMessage({ ms: performance.now() - t0, v });
  });
}

export interface Calibration {
  /** Kernel iterations per nanosecond, both threads together. Bigger is faster. */
  score: number;
  ms: number;
}

/** A two-thread calibrator; close() it when done. */
export class Calibrator {
  private readonly worker: Worker;
  private iterations = 2_000_000;
  private failed: ((e: unknown) => void) | undefined;

  constructor() {
    this.worker = new Worker(fileURLToPath(import.meta.url), { workerData: { vnicRole: "calibrate" } });
    this.worker.unref();
    this.worker.on("error", (e) => this.failed?.(e));
  }

  private once(iterations: number): Promise<Calibration> {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      this.worker.once("message", ({ ms: workerMs }: { ms: number }) => {
        const wall = performance.now() - t0;
        void workerMs;
        resolve({ score: (2 * iterations) / (wall * 1e6), ms: wall });
      });
      this.failed = reject;
      this.worker.postMessage(iterations);
      kernel(iterations);
    });
  }

  /** Sizes the kernel to about `targetMs` per measurement (and warms the JIT up). */
  async warmUp(targetMs = 40): Promise<void> {
    for (let i = 0; i < 4; i++) {
      const c = await this.once(this.iterations);
      this.iterations = Math.max(100_000, Math.round((this.iterations * targetMs) / Math.max(1, c.ms)));
    }
  }

  /** One measurement of the two-thread score. */
  measure(): Promise<Calibration> {
    return this.once(this.iterations);
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/** The kernel on this thread alone, in CPU time: iterations per CPU-nanosecond (the inline
 *  metric's normaliser). */
export function calibrateCpu(iterations = 20_000_000): number {
  const c0 = threadCpuNs();
  kernel(iterations);
  return iterations / Math.max(1, threadCpuNs() - c0);
}

function threadCpuNs(): number {
  try {
    return Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]);
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) * 1000;
  }
}
