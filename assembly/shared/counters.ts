// 64-bit counters in shared memory, with one drop counter per completion status
// (completion-status.ts).
//
// Every counter has exactly one writer thread: ids 0..63 are written by the guest, 64..255 by
// the device, so the two never share a cache line. Writers add once per burst where they can;
// the host reads with atomic loads at any time (a value may be a burst stale while running,
// and is exact once both workers have stopped).
//
// The host learns the names from the exports: every `C_<name>` is a counter id and every
// `DROP_<name>` (completion-status.ts) a completion status with its own drop counter.
// So adding a counter or a drop reason is the whole change; the report picks it up.

import { COUNTERS_BASE } from "./layout";
import { MAX_DROP_REASONS } from "./completion-status";

// ---- guest-written ----
export const C_guestPosted: u32 = 0; // descriptors published on the guest TX ring
export const C_guestCompleted: u32 = 1; // completions reclaimed from the used ring
export const C_guestBytesPosted: u32 = 2;
export const C_guestCompletionErrors: u32 = 3; // completions with a status other than OK
export const C_guestOutOfOrder: u32 = 4; // completions whose cookie was not the next expected
export const C_guestRingFull: u32 = 5; // post attempts stopped by a full guest TX ring
export const C_guestRamFull: u32 = 6; // post attempts stopped by guest RAM still in flight
export const C_guestSleeps: u32 = 7; // times the guest waited for an interrupt
export const C_guestKicks: u32 = 8; // notifications sent to a sleeping device
export const C_guestFramesSkipped: u32 = 9; // capture frames too large for guest RAM
export const C_guestOffloadRequests: u32 = 10; // descriptors posted with gso_type != NONE
export const C_guestFramesOffered: u32 = 11; // capture frames taken from the arena (× loops)

// ---- device-written ----
export const C_deviceDescriptors: u32 = 64; // guest descriptors taken off the guest TX ring
export const C_devicePackets: u32 = 65; // descriptors transmitted (status OK)
export const C_deviceCompleted: u32 = 66; // completions posted on the used ring
export const C_wireFrames: u32 = 67; // frames put on the wire
export const C_wireBytes: u32 = 68;
export const C_bytesCopied: u32 = 69; // bytes copied into pre-translated header buffers
export const C_bytesReferenced: u32 = 70; // bytes sent from guest memory through SG entries
export const C_translations: u32 = 71; // guest pages translated for SG entries
export const C_translationsAvoided: u32 = 72; // frames copied whole: no translation at all
export const C_unparsed: u32 = 73; // frames whose headers did not parse (fixed copy used)
export const C_interrupts: u32 = 74; // interrupts delivered to the guest
export const C_wakeups: u32 = 75; // interrupts that woke a sleeping guest
export const C_deviceSleeps: u32 = 76;
export const C_superPackets: u32 = 77; // large-send descriptors
export const C_stage1Chunks: u32 = 78; // chunks made by LSO stage 1
export const C_segments: u32 = 79; // MTU-sized frames made by LSO stage 2
export const C_csumCompleted: u32 = 80; // checksums completed for NEEDS_CSUM frames
export const C_stranded: u32 = 82; // completions held when the device stopped
export const C_wireFull: u32 = 83; // NIC stopped by a full wire ring (backpressure)
export const C_usoSuperPackets: u32 = 84; // of C_superPackets: UDP segmentation (GSO_UDP_L4)
export const C_tunnelSuperPackets: u32 = 85; // of C_superPackets: VXLAN/Geneve (inner TCP or UDP)
export const C_passedLso: u32 = 100; // large sends passed through to the kernel (--offload)
export const C_passedCsum: u32 = 101; // checksum requests passed through to the kernel (--offload)
export const C_gatherLists: u32 = 102; // --wire-gather kernel: frames sent as gather lists (gather.ts)
export const C_gatherCopied: u32 = 103; // --wire-gather kernel: frames still gathered by the NIC (not eligible)

export const COUNTER_DROPS_BASE: u32 = 128; // drop counter of status s: COUNTER_DROPS_BASE + s

// @ts-ignore: decorator
@inline export function countAdd(id: u32, n: u64): void {
  const at = COUNTERS_BASE + (id << 3);
  store<u64>(at, load<u64>(at) + n);
}

// @ts-ignore: decorator
@inline export function countDrop(status: u32): void {
  countAdd(COUNTER_DROPS_BASE + status, 1);
}

/** Host read of counter `id` (atomic: never torn while a worker writes it). */
export function counter(id: u32): u64 {
  return id < 256 ? atomic.load<u64>(COUNTERS_BASE + (id << 3)) : 0;
}

export function dropCount(status: u32): u64 {
  return status < MAX_DROP_REASONS ? counter(COUNTER_DROPS_BASE + status) : 0;
}

export function resetCounters(): void {
  memory.fill(COUNTERS_BASE, 0, 256 * 8);
}
