// In-flight tracking: what the device had done when it died, recoverable from shared memory
// alone, so that a new device attaching to the same rings continues exactly once.
//
// Model: vhost-user's inflight I/O tracking (VHOST_USER_GET_INFLIGHT_FD, QEMU
// docs/interop/vhost-user.rst "Inflight I/O tracking"; DPDK rte_vhost_inflight): the backend
// keeps, in memory that outlives it, a record per in-flight request marked before it starts
// and cleared once it is done, plus the last batch head, so a restarted backend tells done
// from not done. Here the unit is a burst of one stage (translate: guest TX → physical TX;
// NIC: physical TX → wire + used ring), and each stage has one record with three sequence
// words — OPEN, COMMIT, CLOSE — plus the absolute ring positions the burst ends at.
//
// The protocol of one burst (tracking on, P_inflight = 1):
//   open    snapshot the device counters (ids 64..159) into SNAP, then OPEN = COMMIT + 1.
//   work    everything the burst writes is invisible to every other thread: physical
//           descriptors, pool buffers and SG tables past the physical head, wire records past
//           the wire head, completions past the used head. The only visible writes are device
//           counters, and those are in SNAP.
//   commit  the targets (translate: guest tail, physical head; NIC: physical tail, used head,
//           wire head, and the NIC's cross-burst state into state slot OPEN & 1), then ONE
//           store COMMIT = OPEN. This is the commit point of the burst.
//   apply   the ring index stores that make the burst visible (ringPublish, ringRelease,
//           wirePublish) and the interrupt policy.
//   close   CLOSE = OPEN.
//
// Why a death between any two stores is safe (handover.ts reconciles on attach):
//   before COMMIT: nothing was made visible except counters; the new device puts SNAP back
//           and OPEN = COMMIT: the burst never happened, and the same descriptors are taken
//           again (the guest TX tail never moved). Its wire records past the published head
//           are overwritten, so no frame goes out twice.
//   after COMMIT, before CLOSE: every target is in the record; the new device stores them
//           again (absolute values: doing a store twice is doing it once) and CLOSE = COMMIT.
//           Nothing is lost: the wire head, completions and released slots all reach their
//           committed values. The interrupt policy may not have run: the new device raises
//           one interrupt (a spurious one is harmless, virtio 1.2 §2.7.7; a missing one would
//           strand completions), with held = 0.
//   after CLOSE: clean.
// The counters are put back in one memory.copy, and the seq words are single u32 stores, so
// a thread terminated between two wasm instructions always leaves one of the three states.
// The NIC's state (a large send cut part-way into segments, a refused descriptor's remaining
// chunks, frames made for the descriptor in progress) is double-buffered in two slots: the
// committed one is slot COMMIT & 1, and a burst only ever writes the other.
//
// Cost with tracking off: per stage burst three parameter loads and branches and three plain
// stores of the phase word (two more per large send). With it on: one memory.copy of 768 bytes
// and ~10 plain stores per stage burst.
//
// The phase word says where the device is (for the chaos test's histogram of kill points:
// the host reads it after the killed thread has exited, so it is where the thread died).

import { COUNTERS_BASE, INFLIGHT_BASE } from "../shared/layout";
import { param, P_inflight } from "../shared/params";

// Phases (PHASE word).
export const PH_NONE: u32 = 0; // not attached yet
export const PH_LOOP: u32 = 1; // the device loop between stages (JS, sleeping, timer tick)
export const PH_TRANSLATE: u32 = 2; // translating a burst, not committed
export const PH_STAGE1: u32 = 3; // inside LSO stage 1 (cutting a large send into chunks)
export const PH_TRANSLATE_COMMIT: u32 = 4; // translate committed, publishing
export const PH_NIC: u32 = 5; // gathering a burst onto the wire, not committed
export const PH_STAGE2: u32 = 6; // inside LSO stage 2 (cutting a chunk into MTU frames)
export const PH_NIC_COMMIT: u32 = 7; // NIC committed: publishing the wire, completions, interrupts
export const PH_RECONCILE: u32 = 8; // a new device reconciling what the last one left
export const PH_COUNT: u32 = 9;

// Translate record (line 0).
export const IF_T_OPEN: u32 = INFLIGHT_BASE + 0x00;
export const IF_T_COMMIT: u32 = INFLIGHT_BASE + 0x04;
export const IF_T_CLOSE: u32 = INFLIGHT_BASE + 0x08;
export const IF_T_GUEST_TAIL: u32 = INFLIGHT_BASE + 0x0c;
export const IF_T_PHYS_HEAD: u32 = INFLIGHT_BASE + 0x10;
// NIC record (line 1).
export const IF_N_OPEN: u32 = INFLIGHT_BASE + 0x40;
export const IF_N_COMMIT: u32 = INFLIGHT_BASE + 0x44;
export const IF_N_CLOSE: u32 = INFLIGHT_BASE + 0x48;
export const IF_N_PHYS_TAIL: u32 = INFLIGHT_BASE + 0x4c;
export const IF_N_USED_HEAD: u32 = INFLIGHT_BASE + 0x50;
export const IF_N_WIRE_HEAD: u32 = INFLIGHT_BASE + 0x54;
// Phase word (line 2, device-written, host-read).
export const IF_PHASE: u32 = INFLIGHT_BASE + 0x80;
// Hand-over line (line 3): what the last attach found and did (device-written, host-read).
export const IF_ATTACHES: u32 = INFLIGHT_BASE + 0xc0; // u32 reconciles run
export const IF_HELD_AT_ATTACH: u32 = INFLIGHT_BASE + 0xc4; // u32 guest TX descriptors waiting
export const IF_T_UNDONE: u32 = INFLIGHT_BASE + 0xc8; // u32 translate bursts rolled back
export const IF_T_REDONE: u32 = INFLIGHT_BASE + 0xcc; // u32 translate bursts completed on attach
export const IF_N_UNDONE: u32 = INFLIGHT_BASE + 0xd0;
export const IF_N_REDONE: u32 = INFLIGHT_BASE + 0xd4;
export const IF_MID_SEGMENT: u32 = INFLIGHT_BASE + 0xd8; // u32 attaches that resumed a chunk part-way
// Supervisor line (line 4, host and devices, src/handover/): which device thread may run now.
export const IF_ACTIVE_SERIAL: u32 = INFLIGHT_BASE + 0x0f0; // i32: serial of the device allowed to run
// Per device thread (serial & 63): when it first did work (f64 µs) and what it found held (u32).
// (after the snapshot: 0x200 + 96 × 8 = 0x500; tests/handover-core.test.ts checks they do not meet)
export const IF_FIRST_WORK_BY_SERIAL: u32 = INFLIGHT_BASE + 0x800;
export const IF_HELD_BY_SERIAL: u32 = INFLIGHT_BASE + 0xa00;
// NIC state slots (2 × 32 bytes) and the counter snapshot.
export const IF_N_STATE: u32 = INFLIGHT_BASE + 0x100;
export const IF_STATE_SLOT: u32 = 32;
export const IF_SNAP: u32 = INFLIGHT_BASE + 0x200;
/** Device counters journaled: ids SNAP_FIRST .. SNAP_FIRST + SNAP_COUNT - 1 (64..159: every
 *  device counter and the drop counters; tests/handover-core.test.ts checks none lies past). */
export const SNAP_FIRST: u32 = 64;
export const SNAP_COUNT: u32 = 96;
export const INFLIGHT_BYTES: u32 = 0xb00;

// @ts-ignore: decorator
@inline export function setPhase(p: u32): void {
  store<u32>(IF_PHASE, p);
}

// @ts-ignore: decorator
@inline export function inflightOn(): bool {
  return param(P_inflight) != 0;
}

function snapshotCounters(): void {
  memory.copy(IF_SNAP, COUNTERS_BASE + (SNAP_FIRST << 3), SNAP_COUNT << 3);
}

/** Puts the counters back as they were when the open burst began (reconcile only). */
export function restoreCounters(): void {
  memory.copy(COUNTERS_BASE + (SNAP_FIRST << 3), IF_SNAP, SNAP_COUNT << 3);
}

export function inflightReset(): void {
  memory.fill(INFLIGHT_BASE, 0, INFLIGHT_BYTES);
}

// ---- translate ----

export function translateOpen(): void {
  setPhase(PH_TRANSLATE);
  if (!inflightOn()) return;
  snapshotCounters();
  store<u32>(IF_T_OPEN, load<u32>(IF_T_COMMIT) + 1);
}

/** The commit point of a translate burst: after it, the guest TX tail must reach `guestTail`
 *  and the physical head `physHead`. */
export function translateCommit(guestTail: u32, physHead: u32): void {
  if (inflightOn()) {
    store<u32>(IF_T_GUEST_TAIL, guestTail);
    store<u32>(IF_T_PHYS_HEAD, physHead);
    atomic.store<u32>(IF_T_COMMIT, load<u32>(IF_T_OPEN)); // COMMIT POINT
  }
  setPhase(PH_TRANSLATE_COMMIT);
}

export function translateClose(): void {
  if (inflightOn()) store<u32>(IF_T_CLOSE, load<u32>(IF_T_OPEN));
  setPhase(PH_LOOP);
}

// ---- NIC ----

export function nicOpen(): void {
  setPhase(PH_NIC);
  if (!inflightOn()) return;
  snapshotCounters();
  store<u32>(IF_N_OPEN, load<u32>(IF_N_COMMIT) + 1);
}

/** The state slot a NIC burst writes its end state into (never the committed one). */
export function nicPendingSlot(): u32 {
  return IF_N_STATE + (load<u32>(IF_N_OPEN) & 1) * IF_STATE_SLOT;
}

/** The slot holding the NIC's state as of the last committed burst. */
export function nicCommittedSlot(): u32 {
  return IF_N_STATE + (load<u32>(IF_N_COMMIT) & 1) * IF_STATE_SLOT;
}

/** The commit point of a NIC burst (its end state is already in nicPendingSlot()). */
export function nicCommit(physTail: u32, usedHead: u32, wireHead: u32): void {
  store<u32>(IF_N_PHYS_TAIL, physTail);
  store<u32>(IF_N_USED_HEAD, usedHead);
  store<u32>(IF_N_WIRE_HEAD, wireHead);
  atomic.store<u32>(IF_N_COMMIT, load<u32>(IF_N_OPEN)); // COMMIT POINT
  setPhase(PH_NIC_COMMIT);
}

export function nicClose(): void {
  if (inflightOn()) store<u32>(IF_N_CLOSE, load<u32>(IF_N_OPEN));
  setPhase(PH_LOOP);
}
