// The guest driver: takes frames from the capture arena, copies each into guest RAM, posts a TX
// descriptor for it, and reclaims its buffer when the completion comes back.
//
// Shape: (arena, guest TX ring, used ring, budget) → work done.
//
// Guest RAM is used as a FIFO of frame buffers: frames are placed one after another in
// guest-physical space (a frame never wraps, so it is guest-contiguous even where it crosses
// a page boundary and lands on two unrelated machine frames), and buffers are freed in
// completion order, which is posting order because the device completes in order.
// The FIFO cycles through the first P_guestBufferBytes of guest RAM (all of it when 0): a
// driver's buffers come from memory it freed a moment ago, so the host sizes the area to what
// can be in flight (src/datapath/datapath.ts), not to all of guest RAM — cycling 64 MiB made every
// buffer cold in the cache and the TLB, and the guest, not the device, set the pace.
// Like a virtio driver with a descriptor table of ringSlots entries, the guest never has more
// than ringSlots descriptors in flight; so the used ring can never overflow.

import { RING_GUEST_TX, RING_USED, SHADOW_ENTRY_SIZE, STATE_DEVICE_DOORBELL,
  STATE_DEVICE_SLEEPING, STATE_GUEST_SLEEPING, arenaBase, guestRamBytes, guestShadowBase, ringSlots } from "../shared/layout";
import { ARENA_RECORD_HEADER, arenaClose, arenaExhausted, arenaInit, arenaLoopsDone, arenaNext, arenaPublish,
  arenaTake } from "./arena";
import { param, P_guestBufferBytes, P_guestResident } from "../shared/params";
import { paceAllows, paceInit, paceOffsetOf, paceRefresh, paceRefreshNow, paceTook } from "./pace";
import { ringAvailable, ringHead, ringPublish, ringRelease, ringReserve, ringSlot, ringTail } from "../shared/ring";
import * as D from "../shared/descriptors";
import { countAdd, C_guestBytesPosted, C_guestCompleted, C_guestCompletionErrors, C_guestFramesOffered, C_guestFramesSkipped, C_guestKicks, C_guestOutOfOrder, C_guestPosted, C_guestRamFull, C_guestRingFull, C_guestSleeps } from "../shared/counters";
import { STATUS_OK } from "../shared/completion-status";
import { copyToGuest } from "../shared/guest-memory";
import { clearOffloadHeader, requestOffloads } from "./vnet-header";
import { udpFlowsReset } from "./udp-flows";
import { clockNowNs } from "../shared/clock";
import { latencyRecordNs } from "./latency";

// Shadow entry per in-flight descriptor (SHADOW_ENTRY_SIZE = 16 bytes, guest-private).
const SHADOW_NEED: u32 = 0; // u32 bytes of guest RAM the buffer holds (wasted tail included)
const SHADOW_POSTED_NS: u32 = 8; // u64 when it was posted (clock read once per burst)

// Buffers start on a cache line, as a Linux guest's skb data does (NET_SKB_PAD headroom of
// L1_CACHE_BYTES, NET_IP_ALIGN 0 on x86): a frame's headers then sit in as few lines as they
// can, which is what the device's partial copy pays for (the guest wrote them on another core).
const BUFFER_ALIGN: u32 = 64;

// @ts-ignore: decorator
@inline function alignUp(x: u32): u32 {
  return (x + BUFFER_ALIGN - 1) & ~(BUFFER_ALIGN - 1);
}

// Guest-private state (this instance only).
let postingDone: bool = false;
let ramHead: u32 = 0; // guest-physical address of the next buffer
let ramUsed: u32 = 0; // bytes of guest RAM in flight (wasted tails included)
let nextCookie: u32 = 0;
let expectCookie: u32 = 0;
let bufferArea: u32 = 0; // bytes of guest RAM the FIFO cycles through

/** P_guestBufferBytes, within guest RAM (0 or too large: all of it). */
function bufferAreaBytes(): u32 {
  const area = param(P_guestBufferBytes);
  return area == 0 || area > guestRamBytes ? guestRamBytes : area;
}

export function guestInit(): void {
  arenaInit();
  paceInit();
  udpFlowsReset();
  ramHead = 0;
  ramUsed = 0;
  bufferArea = bufferAreaBytes();
  nextCookie = 0;
  expectCookie = 0;
  postingDone = arenaExhausted();
}

/** One turn: reclaim, then post. Returns work done (> 0), 0 for none, -1 once every frame has
 *  been posted and completed. */
export function guestStep(budget: u32): i32 {
  const work = guestReclaim(budget) + guestPost(budget);
  if (work == 0 && postingDone && nextCookie == expectCookie) return -1;
  return <i32>work;
}

export function guestInFlight(): u32 {
  return nextCookie - expectCookie;
}

function guestReclaim(budget: u32): u32 {
  const n = ringAvailable(RING_USED, budget);
  if (n == 0) return 0;
  const tail = ringTail(RING_USED);
  const now = clockNowNs(); // once per burst: a host call costs more than a frame's work
  let errors: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const ue = ringSlot(RING_USED, tail + i);
    const cookie = load<u32>(ue + D.UE_COOKIE);
    if (cookie != expectCookie) countAdd(C_guestOutOfOrder, 1);
    if (load<u32>(ue + D.UE_STATUS) != STATUS_OK) errors++;
    const shadow = shadowEntry(expectCookie);
    ramUsed -= load<u32>(shadow + SHADOW_NEED);
    const posted = load<u64>(shadow + SHADOW_POSTED_NS);
    latencyRecordNs(now > posted ? now - posted : 0);
    expectCookie++;
  }
  ringRelease(RING_USED, n);
  countAdd(C_guestCompleted, n);
  if (errors > 0) countAdd(C_guestCompletionErrors, errors);
  return n;
}

// @ts-ignore: decorator
@inline function shadowEntry(cookie: u32): u32 {
  return guestShadowBase + (cookie & (ringSlots - 1)) * SHADOW_ENTRY_SIZE;
}

function guestPost(budget: u32): u32 {
  if (postingDone) return 0;
  const inFlightRoom = ringSlots - (nextCookie - expectCookie);
  let room = ringReserve(RING_GUEST_TX, budget < inFlightRoom ? budget : inFlightRoom);
  if (room == 0) {
    countAdd(C_guestRingFull, 1);
    return 0;
  }
  const head = ringHead(RING_GUEST_TX);
  const now = clockNowNs();
  paceRefresh(now); // the allowance for this burst, from the same clock read
  const resident = param(P_guestResident) != 0;
  let posted: u32 = 0;
  let bytes: u64 = 0;
  while (posted < room) {
    if (arenaExhausted()) {
      postingDone = true;
      break;
    }
    const rec = arenaNext();
    if (rec == 0 || !paceAllows(rec)) break; // streaming: the host has not refilled yet; or paced
    const len = load<u32>(rec);
    if (len > (resident ? guestRamBytes : bufferArea)) {
      countAdd(C_guestFramesSkipped, 1);
      takeRecord(len);
      continue;
    }
    let gpa: u32;
    let need: u32 = 0;
    if (resident) {
      // Resident buffers (P_guestResident): guest RAM mirrors the preloaded arena, written on
      // the first pass only and posted again on every later one, as pktgen or testpmd's txonly
      // mode re-send buffers they already hold. Nothing to allocate or free.
      gpa = rec - arenaBase + ARENA_RECORD_HEADER;
      if (arenaLoopsDone() == 0) copyToGuest(gpa, rec + ARENA_RECORD_HEADER, len);
    } else {
      // Place the buffer; a frame that would cross the end of the area starts again at 0. Its
      // tail up to the next line is held with it (the area is whole pages: that never passes
      // the end).
      gpa = ramHead;
      need = len;
      if (len > bufferArea - gpa) {
        need += bufferArea - gpa;
        gpa = 0;
      }
      const next = alignUp(gpa + len);
      need += next - (gpa + len);
      if (need > bufferArea - ramUsed) {
        countAdd(C_guestRamFull, 1);
        break;
      }
      copyToGuest(gpa, rec + ARENA_RECORD_HEADER, len);
      ramHead = next == bufferArea ? 0 : next;
    }
    const cookie = nextCookie + posted;
    const gd = ringSlot(RING_GUEST_TX, head + posted);
    store<u32>(gd + D.GD_GPA, gpa);
    store<u32>(gd + D.GD_LEN, len);
    store<u32>(gd + D.GD_COOKIE, cookie);
    const origLen = load<u32>(rec + 4);
    if (origLen > len) {
      // Cut by the capture's snap length: the bytes the checksum covers are not all here, so
      // nothing is asked of the NIC (its checksum would be wrong) and the frame leaves as
      // captured; the output capture still says how long it was.
      clearOffloadHeader(gd);
      const extra = origLen - len;
      store<u16>(gd + D.GD_ORIG_EXTRA, <u16>(extra < 0xffff ? extra : 0xffff));
    } else requestOffloads(gd, rec + ARENA_RECORD_HEADER, len, gpa);
    store<u64>(gd + D.GD_TIMESTAMP, load<u64>(rec + 8));
    const shadow = shadowEntry(cookie);
    store<u32>(shadow + SHADOW_NEED, need);
    store<u64>(shadow + SHADOW_POSTED_NS, now);
    ramUsed += need;
    bytes += len;
    posted++;
    takeRecord(len);
  }
  arenaPublish();
  ringPublish(RING_GUEST_TX, posted);
  nextCookie += posted;
  countAdd(C_guestPosted, posted);
  countAdd(C_guestBytesPosted, bytes);
  if (posted > 0) kickDevice();
  return posted;
}

function takeRecord(len: u32): void {
  arenaTake(len);
  paceTook(len);
  countAdd(C_guestFramesOffered, 1);
}

/** Notifies the device only if it said it is going to sleep (virtio's notification
 *  suppression, virtio 1.2 §2.7.10): a sequentially consistent store of head by us and of the
 *  sleeping flag by the device mean at least one of the two sees the other. */
function kickDevice(): void {
  if (atomic.load<u32>(STATE_DEVICE_SLEEPING) != 0) {
    atomic.add<u32>(STATE_DEVICE_DOORBELL, 1);
    atomic.notify(STATE_DEVICE_DOORBELL, 1);
    countAdd(C_guestKicks, 1);
  }
}

/** Can the guest post now, or is it waiting on completions? */
function guestCanPost(): bool {
  if (postingDone || nextCookie - expectCookie >= ringSlots) return false;
  if (arenaExhausted()) return true; // one more step notices it is done
  if (ringReserve(RING_GUEST_TX, 1) == 0) return false;
  const rec = arenaNext();
  paceRefreshNow();
  if (rec == 0 || !paceAllows(rec)) return false;
  if (param(P_guestResident) != 0) return true;
  const len = load<u32>(rec);
  const wraps = len > bufferArea - ramHead;
  const need = (wraps ? bufferArea - ramHead : 0) + alignUp(len);
  return len > bufferArea || need <= bufferArea - ramUsed;
}

/** Arms the interrupt and re-checks (the enable_cb race of virtio: a completion published
 *  just before the flag was set is seen here). Returns 1 if the guest may sleep now. */
export function guestPrepareSleep(): u32 {
  atomic.store<u32>(STATE_GUEST_SLEEPING, 1);
  if (ringAvailable(RING_USED, 1) > 0 || guestCanPost() || (postingDone && nextCookie == expectCookie)) {
    atomic.store<u32>(STATE_GUEST_SLEEPING, 0);
    return 0;
  }
  countAdd(C_guestSleeps, 1);
  return 1;
}

export function guestWoke(): void {
  atomic.store<u32>(STATE_GUEST_SLEEPING, 0);
}

/** Graceful stop (SIGINT, --duration): post nothing more; in-flight frames still complete. */
export function guestStopPosting(): void {
  postingDone = true;
  arenaClose();
}

/** For the host's pacer: capture-time offset (ns) of the next frame, 0 if none is ready. */
export function guestNextCaptureOffsetNs(): u64 {
  return paceOffsetOf(arenaNext());
}
