// The device supervisor: runs the device stage as a succession of raw worker threads over the
// same shared memory, handing over between them — cooperatively every N guest descriptors
// (--handover-every), or brutally: a worker terminated at a random moment (--chaos-device),
// wherever its thread happens to be, and replaced. The guest keeps posting throughout; its TX
// ring is the holding queue (a full ring is backpressure, never a loss), and each new device
// reconciles from the in-flight records before its first step (assembly/device/handover.ts).
//
// Exactly one device thread may run: the one IF_ACTIVE_SERIAL names. With chaos, warm
// standbys (spawned, core instantiated, task received, waiting on that word) are always
// prepared, so a restart is the old thread's exit and a wake-up, not a thread start: the backup
// takes over from the primary's state; after a kill, the host names the standby only once the
// old thread's 'exit' event says it is gone. A cooperative hand-over is done by the devices
// themselves (the old one names its successor after leaving its loop,
// src/handover/device-worker.ts); without chaos the successor is a fresh core instance on the
// same thread (no standby threads at all: see device-worker.ts for why), and a device that
// died on its own is replaced by a thread started then.
//
// The guard: devices that die on their own (not by our kill) MAX in a row, each before doing
// any work, end the run with one DatapathError line; what was already on the wire stays there
// (the host drains it) and nothing a device committed is lost.

import { Worker } from "node:worker_threads";
import path from "node:path";
import { Core, projectRoot } from "../core/core.js";
import type { StageResult } from "../workers/stage.js";
import type { DeviceTimeSplit } from "../workers/device-time.js";
import { STOP_NOW } from "../core/stop.js";
import type { HandoverOptions } from "./options.js";
import type { DeviceWorkerTask } from "./device-worker.js";
import { HandoverLog, HandoverEvent, SegmentConfig } from "./report.js";
import { Rng } from "../util/rng.js";

function nowUs(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

/** A chaos kill lands this long after its device was activated: uniform in [0, 2·mean). */
const CHAOS_MEAN_LIFE_MS = 3;

/** What one device reports when it left its loop (src/handover/device-worker.ts): its result
 *  and the facts of its hand-over, read by the device itself at that moment (the host may
 *  read them much later: a thread that runs its successors itself reports in batches). */
export interface DeviceReport {
  serial: number;
  result: StageResult;
  /** The same thread went on to run serial + 1. */
  continues: boolean;
  /** The guest descriptors taken when it left, and the phase word then. */
  descriptorsAt: number;
  phase: number;
  /** When this device first did work (0: never), and the descriptors held when it attached. */
  firstWorkUs: number;
  held: number;
}

type Outcome =
  | { kind: "result"; result: StageResult; report: DeviceReport }
  | { kind: "unused" }
  | { kind: "error"; message: string }
  | { kind: "exit"; code: number };

/** An outcome and the device (serial) it belongs to. */
interface Settled { outcome: Outcome; serial: number }

class DeviceThread {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  /** The device this thread runs now (or will run next). */
  serial = 0;
  killed = false;
  killedAtUs = 0;
  exited = false;
  /** Outcomes not yet taken by the supervisor, oldest first (a batch of reports is several). */
  private readonly settled: Settled[] = [];
  private waiter: ((s: Settled) => void) | undefined;
  private error: Outcome | undefined;

  constructor(script: string, core: Core) {
    this.worker = new Worker(script, { workerData: { memory: core.memory, module: core.module } });
    let resolveReady!: () => void;
    this.ready = new Promise((r) => (resolveReady = r));
    this.worker.on("message", (m: { kind: string; reports?: DeviceReport[]; message?: string }) => {
      if (m.kind === "ready") resolveReady();
      else if (m.kind === "results") {
        for (const report of m.reports!) {
          this.push({ kind: "result", result: report.result, report }, report.serial);
          // The thread went on to the next device itself: its outcome is the next one to await.
          if (report.continues) this.serial = report.serial + 1;
        }
      }
      else if (m.kind === "unused") this.push({ kind: "unused" }, this.serial);
      else if (m.kind === "error") this.error = { kind: "error", message: m.message! };
    });
    this.worker.on("error", (e) => (this.error ??= { kind: "error", message: e.message }));
    this.worker.on("exit", (code) => {
      this.exited = true;
      resolveReady();
      this.push(this.error ?? { kind: "exit", code }, this.serial);
    });
  }

  /** Gives the thread its next device to run (it waits for IF_ACTIVE_SERIAL to name it). */
  begin(task: DeviceWorkerTask): void {
    this.serial = task.serial;
    this.settled.length = 0;
    if (this.exited) this.push(this.error ?? { kind: "exit", code: -1 }, task.serial);
    else this.worker.postMessage(task);
  }

  /** The next outcome of this thread's devices, in order. */
  nextOutcome(): Promise<Settled> {
    const s = this.settled.shift();
    return s ? Promise.resolve(s) : new Promise((resolve) => (this.waiter = resolve));
  }

  private push(outcome: Outcome, serial: number): void {
    const s = { outcome, serial };
    const w = this.waiter;
    this.waiter = undefined;
    if (w) w(s);
    else this.settled.push(s);
  }
}

export class DeviceSupervisor {
  readonly log: HandoverLog;
  private readonly script = path.join(projectRoot(), "dist", "src", "handover", "device-worker.js");
  private readonly i32: Int32Array;
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;
  private readonly random: () => number;
  private killsLeft: number;
  private spawned = 0;
  /** Chaos kills asked for: devices rotate over warm standby threads; else one thread runs
   *  device after device (src/handover/device-worker.ts). */
  private readonly chaos: boolean;

  constructor(
    private readonly core: Core,
    private readonly budget: number,
    private readonly opts: HandoverOptions,
    firstConfig: SegmentConfig,
  ) {
    this.i32 = new Int32Array(core.memory.buffer);
    this.u32 = new Uint32Array(core.memory.buffer);
    this.f64 = new Float64Array(core.memory.buffer);
    const rng = new Rng(opts.chaosSeed); // the kill schedule is reproducible by seed
    this.random = () => rng.next();
    this.killsLeft = opts.chaosKills;
    this.chaos = opts.chaosKills > 0;
    this.log = new HandoverLog(firstConfig);
    core.setParam("inflight", 1);
  }

  private stopped(): boolean {
    return Atomics.load(this.i32, this.core.constant("STATE_STOP") >> 2) === STOP_NOW;
  }

  /** The next device: on a thread that handed over cleanly if there is one, else a new one. */
  private spawn(recycled?: DeviceThread): DeviceThread {
    const serial = ++this.spawned;
    // The device before a configuration change leaves the activation to the host.
    const chainNext = !(this.opts.config && serial === 1);
    const t = recycled ?? new DeviceThread(this.script, this.core);
    this.firstWork(serial, 0);
    t.begin({ serial, budget: this.budget, every: this.opts.every, chainNext, inThread: !this.chaos });
    return t;
  }

  private firstWork(serial: number, set?: number): number {
    const i = (this.core.constant("IF_FIRST_WORK_BY_SERIAL") >> 3) + (serial & 63);
    if (set !== undefined) this.f64[i] = set;
    return this.f64[i];
  }

  private held(serial: number): number {
    return this.u32[(this.core.constant("IF_HELD_BY_SERIAL") >> 2) + (serial & 63)];
  }

  private activate(serial: number): void {
    const i = this.core.constant("IF_ACTIVE_SERIAL") >> 2;
    Atomics.store(this.i32, i, serial);
    Atomics.notify(this.i32, i);
  }

  /** Runs devices until the datapath stops; resolves with a result for the whole device stage. */
  async run(): Promise<StageResult> {
    let active = this.spawn();
    // With chaos, two standbys ahead: the host's answer to one hand-over (giving the recycled
    // thread its next device) may come late on a loaded machine without the chain of devices
    // waiting.
    const standbys = this.chaos ? [this.spawn(), this.spawn()] : [];
    const splits: DeviceTimeSplit[] = [];
    let first: StageResult | undefined;
    let last: StageResult | undefined;
    let consecutiveFailures = 0;
    const events = new Map<number, HandoverEvent>(); // by the serial that completes it
    const finish = (serial: number, report?: DeviceReport) => {
      const e = events.get(serial);
      if (!e) return;
      events.delete(serial);
      this.log.completed(e, report?.firstWorkUs ?? this.firstWork(serial), report?.held ?? this.held(serial));
    };
    try {
      await active.ready;
      // With chaos, the first device starts only once a standby is warm too: its kill then
      // comes within milliseconds, however long a thread takes to start on this machine.
      if (this.killsLeft > 0) await standbys[0].ready;
      this.activate(active.serial);
      for (;;) {
        let killTimer: NodeJS.Timeout | undefined;
        const victim = active;
        const life = this.random() * 2 * CHAOS_MEAN_LIFE_MS;
        // Each kill waits for a warm standby: the restart then measures the hand-over itself.
        const standby = standbys[0];
        if (this.killsLeft > 0) void standby.ready.then(() => (killTimer = victim.exited ? undefined : setTimeout(() => this.kill(victim), life)));
        const { outcome, serial } = await active.nextOutcome();
        if (killTimer) clearTimeout(killTimer);
        finish(serial, outcome.kind === "result" ? outcome.report : undefined);
        const next = serial + 1;
        if (outcome.kind === "unused") break;
        if (outcome.kind === "result") {
          consecutiveFailures = 0;
          first ??= outcome.result;
          last = outcome.result;
          if (outcome.result.timeSplit) splits.push(outcome.result.timeSplit);
          if (!outcome.result.handedOver) break; // the datapath stopped it
          events.set(next, this.log.handover("handover", outcome.result.endUs, outcome.report.descriptorsAt, outcome.report.phase));
          if (this.opts.config && !this.log.configApplied) {
            // Only now, with no device running, may the configuration change.
            this.applyConfig();
            this.activate(next);
          }
        } else if (active.killed) {
          consecutiveFailures = 0;
          events.set(next, this.log.handover("restart", active.killedAtUs, Number(this.core.counter("deviceDescriptors")), this.phase()));
          if (this.stopped()) break;
          this.activate(next);
        } else {
          // Died on its own (a crash, an exit, an exception).
          const why = outcome.kind === "error" ? outcome.message : `its thread exited with code ${outcome.code}`;
          consecutiveFailures = this.firstWork(serial) !== 0 ? 1 : consecutiveFailures + 1;
          this.log.failures++;
          if (consecutiveFailures >= this.opts.maxConsecutiveFailures) {
            throw new Error(`the device died ${consecutiveFailures} times in a row without doing any work (last: ${why}); gave up after ${this.log.failures} failed devices`);
          }
          events.set(next, this.log.handover("restart", nowUs(), Number(this.core.counter("deviceDescriptors")), this.phase()));
          if (this.stopped()) break;
          if (!this.chaos) {
            // No standby without chaos: the next device starts on a new thread, now.
            this.spawned = serial;
            active = this.spawn();
            await active.ready;
          }
          this.activate(next);
        }
        if (!this.chaos) {
          // The thread runs its successor itself (its outcome is already the next one).
          this.spawned = Math.max(this.spawned, next);
          continue;
        }
        const healthy = outcome.kind === "result" && !active.exited ? active : undefined;
        active = standbys.shift()!;
        standbys.push(this.spawn(healthy));
      }
    } finally {
      await Promise.all([active, ...standbys].map((t) => t.worker.terminate().catch(() => undefined)));
    }
    return {
      stage: "device",
      elapsedMs: 0,
      steps: 0,
      sleeps: 0,
      startUs: first?.startUs ?? nowUs(),
      endUs: last?.endUs ?? nowUs(),
      timeSplit: mergeSplits(splits),
    };
  }

  private phase(): number {
    return this.u32[this.core.constant("IF_PHASE") >> 2];
  }

  /** A chaos kill: worker.terminate() wherever the thread is. */
  private kill(d: DeviceThread): void {
    if (this.killsLeft <= 0 || this.stopped() || d.exited) return;
    this.killsLeft--;
    d.killed = true;
    d.killedAtUs = nowUs();
    void d.worker.terminate();
  }

  /** The --handover-config change, at the first cooperative hand-over. */
  private applyConfig(): void {
    const cfg = this.opts.config!;
    this.core.setParams(cfg.params);
    this.log.configApplied = true;
    this.log.newSegment(cfg.text, Number(this.core.counter("deviceDescriptors")));
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
