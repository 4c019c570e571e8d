// A deterministic discrete-event simulation of one TX queue's completion path, driving the
// real wasm coalescing policy (wasm-policy.ts) with simulated time.
//
// The model (vIC's, ATC 2011 §3): the guest posts commands; the device serves them in order,
// `serviceUs` each, `deviceBurst` at a time, and after each burst publishes the completions and
// asks the policy (coalesceStep) whether to interrupt. The guest learns of completions only
// through interrupts: an interrupt makes it collect everything published so far (it reads the
// used ring), refill (closed loop) or post its backlog (open loop), and re-arm. With
// `handleUs` > 0 the handler takes that long and interrupts raised meanwhile only move the
// doorbell; on re-arm the guest re-checks the used ring (virtio's enable_cb_delayed) — or,
// with `recheck: false` (an ablation), does not, and what those interrupts signalled waits for
// the next one, forever if none comes.
//
// Quiescence = no event left. A completion published and never collected by then is stranded.
// Indices are free-running u32 from `startIndex`, so CIF and virtio's u16 event arithmetic are
// exercised across the 2^16 and 2^32 wraps. Events at the same instant run in a seeded random
// order (a completion racing the re-arm goes either way, reproducibly).

import { Rng } from "../util/rng.js";
import type { WasmCoalescer } from "./wasm-policy.js";

export type Workload =
  /** Closed loop: keep `qd` commands outstanding (as the guest sees it) for `completions`
   *  completions, phase after phase. */
  | { kind: "closed"; phases: { qd: number; completions: number }[] }
  /** Open loop: one command arrives at each time (µs, ascending). */
  | { kind: "open"; arrivalsUs: number[] };

export interface SimOptions {
  serviceUs?: number; // device time per command (capacity = 1/serviceUs per µs); default 1
  ringSlots?: number; // the guest never has more outstanding; default 256
  startIndex?: number; // u32 start of every index; default 0
  deviceBurst?: number; // completions published per device burst; default 1
  handleUs?: number; // guest interrupt handler time before re-arming; default 0
  recheck?: boolean; // guest re-checks the used ring after re-arming; default true
  seed?: number;
  /** Called after every policy decision (tests). */
  onStep?: (s: StepTrace) => void;
}

export interface StepTrace {
  nowUs: number;
  burst: number;
  cif: number;
  heldBefore: number;
  interrupts: number; // raised by this decision
}

export interface SimResult {
  posted: number;
  completed: number;
  collected: number;
  interrupts: number;
  stranded: number;
  /** Per collected completion: completions published in later bursts before it was collected. */
  waitedCompletions: Float64Array;
  /** Per collected completion: µs from its publication to its collection. */
  addedUs: Float64Array;
  endUs: number;
}

const EV_ARRIVAL = 0, EV_DEVICE = 1, EV_TIMER = 2, EV_GUEST = 3;

/** Binary min-heap of events keyed by (time, seeded tie-break). */
class EventQueue {
  private t: number[] = [];
  private k: number[] = [];
  private ty: number[] = [];
  private v: number[] = [];
  constructor(private rng: Rng) {}
  get size(): number {
    return this.t.length;
  }
  private less(a: number, b: number): boolean {
    return this.t[a] < this.t[b] || (this.t[a] === this.t[b] && this.k[a] < this.k[b]);
  }
  private swap(a: number, b: number): void {
    for (const arr of [this.t, this.k, this.ty, this.v]) [arr[a], arr[b]] = [arr[b], arr[a]];
  }
  push(t: number, type: number, value: number): void {
    let i = this.t.length;
    this.t.push(t), this.k.push(this.rng.next()), this.ty.push(type), this.v.push(value);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p), (i = p);
    }
  }
  /** Pops the earliest event into `out` ([time, type, value]). */
  pop(out: number[]): void {
    out[0] = this.t[0], out[1] = this.ty[0], out[2] = this.v[0];
    const last = this.t.length - 1;
    this.swap(0, last);
    this.t.pop(), this.k.pop(), this.ty.pop(), this.v.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < last && this.less(l, m)) m = l;
      if (r < last && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m), (i = m);
    }
  }
}

export function simulate(policy: WasmCoalescer, workload: Workload, opts: SimOptions = {}): SimResult {
  const serviceUs = opts.serviceUs ?? 1, ringSlots = opts.ringSlots ?? 256, start = (opts.startIndex ?? 0) >>> 0;
  const deviceBurst = opts.deviceBurst ?? 1, handleUs = opts.handleUs ?? 0, recheck = opts.recheck ?? true;
  const rng = new Rng(opts.seed ?? 1);
  const q = new EventQueue(rng);
  const idx = (n: number) => (start + n) >>> 0;
  const total = workload.kind === "closed" ? workload.phases.reduce((s, p) => s + p.completions, 0) : workload.arrivalsUs.length;
  const compTime = new Float64Array(total);
  const burstEnd = new Float64Array(total); // completed count once i's burst was published
  const waited = new Float64Array(total), added = new Float64Array(total);

  let posted = 0, started = 0, completed = 0, collected = 0, interrupts = 0, backlog = 0, now = 0;
  let deviceBusy = false, guestBusy = false, timerAt = -1;
  let phase = 0, phaseEnd = workload.kind === "closed" ? workload.phases[0]?.completions ?? 0 : 0;
  policy.reset(idx(0));

  const deviceKick = () => {
    if (deviceBusy || started === posted) return;
    const b = Math.min(posted - started, deviceBurst);
    started += b;
    deviceBusy = true;
    q.push(now + b * serviceUs, EV_DEVICE, b);
  };
  const guestPost = () => {
    if (workload.kind === "closed") {
      while (phase < workload.phases.length && collected >= phaseEnd) {
        phase++;
        if (phase < workload.phases.length) phaseEnd += workload.phases[phase].completions;
      }
      const qd = phase < workload.phases.length ? Math.min(workload.phases[phase].qd, ringSlots) : 0;
      while (posted < total && posted - collected < qd) posted++;
    } else {
      while (backlog > 0 && posted - collected < ringSlots) posted++, backlog--;
    }
    deviceKick();
  };
  const collect = () => {
    for (let i = collected; i < completed; i++) {
      waited[i] = completed - burstEnd[i];
      added[i] = now - compTime[i];
    }
    collected = completed;
  };
  const guestHandle = () => {
    collect();
    if (handleUs > 0) {
      guestBusy = true;
      q.push(now + handleUs, EV_GUEST, 0);
    } else guestPost();
  };
  const interrupt = (n: number) => {
    interrupts += n;
    if (!guestBusy) guestHandle();
    // else: the doorbell moved while the guest handles; its re-check (if any) will see the work.
  };
  const armTimer = () => {
    const due = policy.timerDueUs();
    if (due < 0 || due === timerAt) return;
    timerAt = due > now ? due : now + 1e-6; // a due time already passed (float rounding): nudge
    q.push(timerAt, EV_TIMER, 0);
  };

  if (workload.kind === "closed") guestPost();
  else workload.arrivalsUs.forEach((t, i) => q.push(t, EV_ARRIVAL, i));

  const ev = [0, 0, 0];
  while (q.size > 0) {
    q.pop(ev);
    now = ev[0];
    switch (ev[1]) {
      case EV_ARRIVAL:
        backlog++;
        guestPost();
        break;
      case EV_DEVICE: {
        const b = ev[2];
        for (let i = 0; i < b; i++) compTime[completed + i] = now, burstEnd[completed + i] = completed + b;
        completed += b;
        deviceBusy = false;
        const cif = (idx(posted) - idx(completed)) >>> 0;
        const heldBefore = opts.onStep ? policy.held() : 0;
        const n = policy.step(b, cif, idx(completed), now) >>> 0;
        opts.onStep?.({ nowUs: now, burst: b, cif, heldBefore, interrupts: n });
        if (n > 0) interrupt(n);
        armTimer();
        deviceKick();
        break;
      }
      case EV_TIMER:
        if (now !== timerAt) break; // superseded
        timerAt = -1;
        if (policy.timer(now) > 0) interrupt(1);
        armTimer();
        break;
      case EV_GUEST:
        guestBusy = false;
        guestPost(); // the handler refills, then re-arms and (virtio) re-checks
        if (recheck && completed > collected) guestHandle();
        break;
    }
  }
  return { posted, completed, collected, interrupts, stranded: completed - collected,
    waitedCompletions: waited.subarray(0, collected), addedUs: added.subarray(0, collected), endUs: now };
}
