// The device supervisor: runs the device stage as a succession of raw worker threads over the
// same shared memory, handing over between them — cooperatively every N guest descriptors
// (--handover-every), or brutally: a worker terminated at a random moment (--chaos-device),
// wherever its thread happens to be, and replaced. The guest keeps posting throughout; its TX
// ring is the holding queue (a full ring is backpressure, never a loss), and each new device
// reconciles from the in-flight records before its first step (assembly/handover.ts).
//
// A warm standby is always being prepared (spawned, core instantiated, waiting for a task), so
// a restart costs the old thread's exit and a message, not a thread start: the backup takes
// over from the primary's state. Only after the old thread's 'exit' event is the standby
// activated: two devices never run on the same rings.
//
// The guard: a device that dies on its own (not by our kill) MAX in a row, each before doing
// any work, ends the run with one DatapathError line; what was already on the wire stays there
// (the host drains it) and nothing it committed is lost.

import { Worker } from "node:worker_threads";
import path from "node:path";
import { Core, projectRoot } from "../core.js";
import type { StageResult, StageTask } from "../workers/stage.js";
import type { DeviceTimeSplit } from "../workers/device-time.js";
import { STOP_NOW } from "../stop.js";
import type { HandoverOptions } from "./options.js";
import { HandoverLog, HandoverEvent, SegmentConfig } from "./report.js";

function nowUs(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

/** mulberry32: a small seeded generator (the kill schedule is reproducible by seed). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A chaos kill lands this long after its device was activated: uniform in [0, 2·mean). */
const CHAOS_MEAN_LIFE_MS = 3;

type Outcome =
  | { kind: "result"; result: StageResult }
  | { kind: "error"; message: string }
  | { kind: "exit"; code: number };

class DeviceThread {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  readonly outcome: Promise<Outcome>;
  killed = false;
  killedAtUs = 0;
  exited = false;

  constructor(script: string, core: Core, serial: number) {
    this.worker = new Worker(script, { workerData: { memory: core.memory, module: core.module, serial } });
    let resolveReady!: () => void;
    this.ready = new Promise((r) => (resolveReady = r));
    this.outcome = new Promise((resolve) => {
      let settled: Outcome | undefined;
      this.worker.on("message", (m: { kind: string; result?: StageResult; message?: string }) => {
        if (m.kind === "ready") resolveReady();
        else if (m.kind === "result") settled = { kind: "result", result: m.result! };
        else if (m.kind === "error") settled = { kind: "error", message: m.message! };
      });
      this.worker.on("error", (e) => (settled ??= { kind: "error", message: e.message }));
      // The outcome is known only once the thread is gone: only then may another device run.
      this.worker.on("exit", (code) => {
        this.exited = true;
        resolveReady();
        resolve(settled ?? { kind: "exit", code });
      });
    });
  }

  activate(task: StageTask): void {
    this.worker.postMessage(task);
  }
}

export class DeviceSupervisor {
  readonly log: HandoverLog;
  private readonly script = path.join(projectRoot(), "dist", "src", "handover", "device-worker.js");
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly random: () => number;
  private killsLeft: number;
  private spawned = 0;

  constructor(
    private readonly core: Core,
    private readonly budget: number,
    private readonly opts: HandoverOptions,
    firstConfig: SegmentConfig,
  ) {
    this.i32 = new Int32Array(core.memory.buffer);
    this.f64 = new Float64Array(core.memory.buffer);
    this.random = seededRandom(opts.chaosSeed);
    this.killsLeft = opts.chaosKills;
    this.log = new HandoverLog(firstConfig);
    core.setParam("inflight", 1);
  }

  private word(name: string): number {
    return this.i32[this.core.constant(name) >> 2] >>> 0;
  }

  private stopped(): boolean {
    return Atomics.load(this.i32, this.core.constant("STATE_STOP") >> 2) === STOP_NOW;
  }

  private descriptorsTaken(): number {
    return Number(this.core.counter("deviceDescriptors"));
  }

  /** Runs devices until the datapath stops; resolves with a result for the whole device stage. */
  async run(): Promise<StageResult> {
    let standby = new DeviceThread(this.script, this.core, ++this.spawned);
    const splits: DeviceTimeSplit[] = [];
    let first: StageResult | undefined;
    let last: StageResult | undefined;
    let consecutiveFailures = 0;
    let lastFailure = "";
    let pending: HandoverEvent | undefined; // the hand-over the next device completes
    try {
      for (;;) {
        await standby.ready;
        if (this.stopped()) break;
        const active = standby;
        standby = new DeviceThread(this.script, this.core, ++this.spawned);
        // With chaos, the first device starts only once a standby is warm too: its kill then
        // comes within milliseconds, however long a thread takes to start on this machine.
        if (this.killsLeft > 0 && this.spawned === 2) await standby.ready;
        const takeLimit = this.opts.every > 0 ? this.descriptorsTaken() + this.opts.every : 0;
        this.f64[this.core.constant("IF_FIRST_TX_US") >> 3] = 0;
        const attachesBefore = this.word("IF_ATTACHES");
        active.activate({ stage: "device", budget: this.budget, handover: { takeLimit } });
        // A kill is scheduled once the next standby is warm: the restart then measures the
        // hand-over itself, not a thread start.
        let killTimer: NodeJS.Timeout | undefined;
        const life = this.random() * 2 * CHAOS_MEAN_LIFE_MS;
        if (this.killsLeft > 0) void standby.ready.then(() => (killTimer = active.exited ? undefined : setTimeout(() => this.kill(active), life)));
        const outcome = await active.outcome;
        if (killTimer) clearTimeout(killTimer);
        const attached = this.word("IF_ATTACHES") !== attachesBefore;
        if (pending && attached) {
          this.log.completed(pending, this.f64[this.core.constant("IF_FIRST_TX_US") >> 3], this.word("IF_HELD_AT_ATTACH"));
          pending = undefined;
        }
        if (outcome.kind === "result") {
          consecutiveFailures = 0;
          first ??= outcome.result;
          last = outcome.result;
          if (outcome.result.timeSplit) splits.push(outcome.result.timeSplit);
          if (!outcome.result.handedOver) break; // the datapath stopped it
          pending = this.log.handover("handover", nowUs(), this.descriptorsTaken(), this.word("IF_PHASE"));
          this.applyConfigAt();
          continue;
        }
        if (active.killed) {
          consecutiveFailures = 0;
          pending = this.log.handover("restart", active.killedAtUs, this.descriptorsTaken(), this.word("IF_PHASE"));
          continue;
        }
        // Died on its own (a crash, an exit, an exception).
        lastFailure = outcome.kind === "error" ? outcome.message : `its thread exited with code ${outcome.code}`;
        const didWork = this.f64[this.core.constant("IF_FIRST_TX_US") >> 3] !== 0;
        consecutiveFailures = didWork ? 1 : consecutiveFailures + 1;
        this.log.failures++;
        if (consecutiveFailures >= this.opts.maxConsecutiveFailures) {
          throw new Error(`the device died ${consecutiveFailures} times in a row without doing any work (last: ${lastFailure}); gave up after ${this.log.failures} failed devices`);
        }
        pending = this.log.handover("restart", nowUs(), this.descriptorsTaken(), this.word("IF_PHASE"));
      }
    } finally {
      await standby.worker.terminate().catch(() => undefined);
    }
    const startUs = first?.startUs ?? nowUs();
    return {
      stage: "device",
      elapsedMs: 0,
      steps: 0,
      sleeps: 0,
      startUs,
      endUs: last?.endUs ?? nowUs(),
      timeSplit: mergeSplits(splits),
    };
  }

  /** A chaos kill: worker.terminate() wherever the thread is. */
  private kill(d: DeviceThread): void {
    if (this.killsLeft <= 0 || this.stopped() || d.exited) return;
    this.killsLeft--;
    d.killed = true;
    d.killedAtUs = nowUs();
    void d.worker.terminate();
  }

  /** A cooperative hand-over with --handover-config: the first one switches configuration. */
  private applyConfigAt(): void {
    const cfg = this.opts.config;
    if (!cfg || this.log.configApplied) return;
    for (const [name, v] of Object.entries(cfg.params)) this.core.setParam(name, v);
    this.log.configApplied = true;
    this.log.newSegment(cfg.text, this.descriptorsTaken());
  }
}

function mergeSplits(splits: DeviceTimeSplit[]): DeviceTimeSplit | undefined {
  if (splits.length === 0) return undefined;
  const out = structuredClone(splits[0]);
  for (const s of splits.slice(1)) {
    out.sampledSteps += s.sampledSteps;
    for (const k of ["backend", "nic"] as const) {
      out[k].items += s[k].items;
      out[k].sampledItems += s[k].sampledItems;
      s[k].histogram.forEach((v, i) => (out[k].histogram[i] += v));
    }
  }
  return out;
}
