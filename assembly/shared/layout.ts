// The memory map: the one place that says where everything lives in the shared memory.
//
// The host creates one shared WebAssembly.Memory, calls `configure()` to size the regions,
// and reads every address it needs back through the exports below (never from a second copy
// in TypeScript). Each worker instantiates the same module against the same memory and
// calls `attach()` to cache the region bases in its own (per-instance) globals.
//
// Fixed part (low addresses, below the AssemblyScript data segments at --memoryBase 64 KiB):
//
//   0x0000 .. 0x1000   unused: with -O3 the optimizer assumes the low 1 KiB is never accessed
//   0x1000 CONFIG       sizes given to configure(), then the computed region table
//   0x2000 RINGS        ring control blocks, 256 bytes each (see ring.ts)
//   0x3000 STATE        per-thread state, one 64-byte line per writer (see STATE_* below)
//   0x4000 COUNTERS     64-bit counters: guest-written 0..63, device-written 64..255
//   0x5000 PARAMS       run parameters written by the host before traffic starts
//   0x6000 HISTOGRAM    completion-latency histogram (guest-written: post → reclaim)
//   0x7000 INFLIGHT     the device's in-flight records for hand-over (device-written, inflight.ts)
//
// Region part (from 1 MiB, 4 KiB-aligned, sized by configure()):
//
//   guest RAM       guest-physical 0 .. guestRamBytes, backed by shuffled machine frames
//   page table      u32 per guest frame: guest frame number → machine frame number
//   guest shadow    guest-private bookkeeping per TX ring slot (allocation end, post time)
//   guest TX ring   guest descriptors (guest.ts)
//   phys TX ring    physical descriptors (translate.ts → nic.ts)
//   used ring       completions (nic.ts → guest.ts)
//   SG tables       one scatter-gather table per physical ring slot
//   buffer pool     pre-translated transmit header buffers, one per physical ring slot
//   wire            byte ring of transmitted frames (nic.ts → host capture writer)
//   bounce          one 2 KiB buffer per physical ring slot, for the `full` copy baseline
//   staging         where the host's capture writer builds pcap records (pcap-out.ts)
//   arena           capture records placed by the host for the guest to copy from

export const PAGE_SHIFT: u32 = 12;
export const PAGE_SIZE: u32 = 1 << PAGE_SHIFT;
export const CACHE_LINE: u32 = 64;

export const CONFIG_BASE: u32 = 0x1000;
export const RINGS_BASE: u32 = 0x2000;
export const STATE_BASE: u32 = 0x3000;
export const COUNTERS_BASE: u32 = 0x4000;
export const PARAMS_BASE: u32 = 0x5000;
export const HISTOGRAM_BASE: u32 = 0x6000;
export const INFLIGHT_BASE: u32 = 0x7000;
export const REGIONS_START: u32 = 0x100000;

// Ring control blocks (256 bytes each).
export const RING_GUEST_TX: u32 = RINGS_BASE + 0x000;
export const RING_PHYS_TX: u32 = RINGS_BASE + 0x100;
export const RING_USED: u32 = RINGS_BASE + 0x200;

// State lines: each written by exactly one thread, each on its own cache line.
export const STATE_STOP: u32 = STATE_BASE + 0x000; // host → all: nonzero means stop now
export const STATE_GUEST_DOORBELL: u32 = STATE_BASE + 0x040; // device bumps + notifies (interrupt)
export const STATE_GUEST_SLEEPING: u32 = STATE_BASE + 0x080; // guest: 1 while about to wait
export const STATE_DEVICE_DOORBELL: u32 = STATE_BASE + 0x0c0; // guest bumps + notifies (kick)
export const STATE_DEVICE_SLEEPING: u32 = STATE_BASE + 0x100; // device: 1 while about to wait
export const STATE_GUEST: u32 = STATE_BASE + 0x140; // guest.ts private cursor state (4 lines)
export const STATE_DEVICE: u32 = STATE_BASE + 0x240; // device private state (4 lines)
// The gate's injected slowdown chain (nic.ts slowdownSpin): its last word, device-written.
export const NIC_SLOWDOWN_CHAIN: u32 = STATE_DEVICE + 0xfc;
export const STATE_ARENA: u32 = STATE_BASE + 0x340; // host-written arena description
export const STATE_WIRE: u32 = STATE_BASE + 0x380; // wire ring: producer line
export const STATE_WIRE_CONSUMER: u32 = STATE_BASE + 0x3c0; // wire ring: consumer line
export const STATE_ARENA_CONSUMER: u32 = STATE_BASE + 0x400; // arena ring (streaming): guest line
export const STATE_UDP_FLOWS: u32 = STATE_BASE + 0x800; // guest-private: UDP flow gso sizes (udp-flows.ts, 2 KiB)
export const STATE_WIRE_PUMP: u32 = STATE_BASE + 0x440; // native wire pump (--iface): +0 sent cursor, +4 sleeping
export const STATE_WIRE_PUMP_BELL: u32 = STATE_BASE + 0x480; // device bumps, then FUTEX_WAKEs the pump

// Region table: base and size of each region, written by configure().
export const REGION_GUEST_RAM: u32 = 0;
export const REGION_PAGE_TABLE: u32 = 1;
export const REGION_GUEST_SHADOW: u32 = 2;
export const REGION_GUEST_TX_SLOTS: u32 = 3;
export const REGION_PHYS_TX_SLOTS: u32 = 4;
export const REGION_USED_SLOTS: u32 = 5;
export const REGION_SG_TABLES: u32 = 6;
export const REGION_POOL: u32 = 7;
export const REGION_WIRE: u32 = 8;
export const REGION_BOUNCE: u32 = 9;
export const REGION_STAGING: u32 = 10;
export const REGION_ARENA: u32 = 11;
export const REGION_COUNT: u32 = 12;

// Slot sizes (bytes, powers of two) of the three rings; formats in guest.ts, translate.ts, nic.ts.
export const GUEST_DESC_SIZE: u32 = 32;
export const PHYS_DESC_SIZE: u32 = 64;
export const USED_ELEM_SIZE: u32 = 16;
export const SHADOW_ENTRY_SIZE: u32 = 16;

// A scatter-gather table holds up to MAX_SG (machine address, length) pairs: enough for a
// 256 KiB + 4 KiB frame split at every page boundary (a frame of n bytes touches at most
// n/4096 + 2 pages). Longer chains are refused (virtio's queue-size limit on chains).
export const MAX_SG: u32 = 72;
export const SG_ENTRY_SIZE: u32 = 8;
export const SG_TABLE_SIZE: u32 = MAX_SG * SG_ENTRY_SIZE;

// Pool buffers: 256 bytes = a 16-byte header (machine address of the data, set once when the
// pool is made) + 240 bytes of data. 240 bytes hold the longest header stack we transmit
// (Ethernet + 2 tags + IPv6 + 40 bytes of extension headers + TCP with 40 bytes of options =
// 22 + 40 + 40 + 60 = 162, or a VXLAN-in-IPv6 outer stack around an inner IPv4/TCP one),
// and every 64..240-byte frame is copied whole. Four buffers share a 1 KiB span, so a
// header copy touches at most 4 cache lines.
export const POOL_BUF_SIZE: u32 = 256;
export const POOL_HDR_SIZE: u32 = 16;
export const POOL_DATA_SIZE: u32 = POOL_BUF_SIZE - POOL_HDR_SIZE;

// Bounce buffers for the `full` copy baseline: a whole MTU-sized frame (1514 bytes + up to two
// tags) fits; a longer frame copies its first BOUNCE_SIZE bytes and references the rest.
export const BOUNCE_SIZE: u32 = 2048;

// The capture writer's staging area: 2 MiB holds a few thousand records per file write, and
// the largest single record (256 KiB + headers) with room to spare.
export const STAGING_BYTES: u32 = 2 << 20;

// Config words (host → configure()).
const CFG_GUEST_RAM_BYTES: u32 = CONFIG_BASE + 0;
const CFG_RING_SLOTS: u32 = CONFIG_BASE + 4;
const CFG_WIRE_BYTES: u32 = CONFIG_BASE + 8;
const CFG_ARENA_BYTES: u32 = CONFIG_BASE + 12;
const CFG_TOTAL_BYTES: u32 = CONFIG_BASE + 16;
const CFG_PAGE_SEED: u32 = CONFIG_BASE + 20;
const REGION_TABLE: u32 = CONFIG_BASE + 0x100; // REGION_COUNT × (base u32, bytes u32)

// Per-instance copies of the region bases, filled by attach().
export let guestRamBase: u32 = 0;
export let guestRamBytes: u32 = 0;
export let pageTableBase: u32 = 0;
export let guestShadowBase: u32 = 0;
export let sgTablesBase: u32 = 0;
export let poolBase: u32 = 0;
export let wireBase: u32 = 0;
export let wireBytes: u32 = 0;
export let bounceBase: u32 = 0;
export let arenaBase: u32 = 0;
export let ringSlots: u32 = 0;

function alignUp(x: u64, a: u64): u64 {
  return (x + a - 1) & ~(a - 1);
}

function isPowerOfTwo(x: u32): bool {
  return x != 0 && (x & (x - 1)) == 0;
}

/**
 * Sizes every region and writes the region table. Returns the total bytes the memory must
 * hold, or 0 when a size is unusable (not a power of two where one is needed, or the whole
 * map would pass 4 GiB). Pure arithmetic plus stores into CONFIG: the host calls it once on a
 * small probe memory to learn the size, then again on the real memory.
 */
export function configure(guestRamBytes_: u32, ringSlots_: u32, wireBytes_: u32, arenaBytes_: u32): u32 {
  if (guestRamBytes_ < PAGE_SIZE || (guestRamBytes_ & (PAGE_SIZE - 1)) != 0) return 0;
  if (!isPowerOfTwo(ringSlots_) || ringSlots_ < 2 || ringSlots_ > 65536) return 0;
  if (!isPowerOfTwo(wireBytes_) || wireBytes_ < 1 << 20) return 0;
  const sizes: StaticArray<u64> = [
    guestRamBytes_,
    (guestRamBytes_ >> PAGE_SHIFT) * 4,
    ringSlots_ * SHADOW_ENTRY_SIZE,
    ringSlots_ * GUEST_DESC_SIZE,
    ringSlots_ * PHYS_DESC_SIZE,
    ringSlots_ * USED_ELEM_SIZE,
    ringSlots_ * SG_TABLE_SIZE,
    ringSlots_ * POOL_BUF_SIZE,
    wireBytes_,
    ringSlots_ * BOUNCE_SIZE,
    STAGING_BYTES,
    arenaBytes_,
  ];
  let at: u64 = REGIONS_START;
  for (let r: u32 = 0; r < REGION_COUNT; r++) {
    const bytes = unchecked(sizes[r]);
    store<u32>(REGION_TABLE + r * 8, <u32>at);
    store<u32>(REGION_TABLE + r * 8 + 4, <u32>bytes);
    // A guard page of untouched bytes after every region (checked by the fuzz tests).
    at = alignUp(at + bytes, PAGE_SIZE) + PAGE_SIZE;
    if (at > 0xffff0000) return 0;
  }
  store<u32>(CFG_GUEST_RAM_BYTES, guestRamBytes_);
  store<u32>(CFG_RING_SLOTS, ringSlots_);
  store<u32>(CFG_WIRE_BYTES, wireBytes_);
  store<u32>(CFG_ARENA_BYTES, arenaBytes_);
  store<u32>(CFG_TOTAL_BYTES, <u32>at);
  return <u32>at;
}

export function regionBase(region: u32): u32 {
  return region < REGION_COUNT ? load<u32>(REGION_TABLE + region * 8) : 0;
}

export function regionBytes(region: u32): u32 {
  return region < REGION_COUNT ? load<u32>(REGION_TABLE + region * 8 + 4) : 0;
}

export function totalBytes(): u32 {
  return load<u32>(CFG_TOTAL_BYTES);
}

/** Caches the region table in this instance's globals. Every worker calls it once. */
export function attach(): void {
  guestRamBase = regionBase(REGION_GUEST_RAM);
  guestRamBytes = regionBytes(REGION_GUEST_RAM);
  pageTableBase = regionBase(REGION_PAGE_TABLE);
  guestShadowBase = regionBase(REGION_GUEST_SHADOW);
  sgTablesBase = regionBase(REGION_SG_TABLES);
  poolBase = regionBase(REGION_POOL);
  wireBase = regionBase(REGION_WIRE);
  wireBytes = regionBytes(REGION_WIRE);
  bounceBase = regionBase(REGION_BOUNCE);
  arenaBase = regionBase(REGION_ARENA);
  ringSlots = load<u32>(CFG_RING_SLOTS);
}

/**
 * Fills the guest page table with a seeded shuffle of machine frames (Fisher-Yates over
 * xorshift32), so guest-contiguous pages are almost never machine-contiguous and
 * translation is real work. The host calls it once, before any worker starts.
 */
export function shufflePageTable(seed: u32): void {
  const frames = guestRamBytes >> PAGE_SHIFT;
  for (let i: u32 = 0; i < frames; i++) store<u32>(pageTableBase + i * 4, i);
  let x: u32 = seed | 1;
  for (let i: u32 = frames - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    const j = x % (i + 1);
    const a = load<u32>(pageTableBase + i * 4);
    store<u32>(pageTableBase + i * 4, load<u32>(pageTableBase + j * 4));
    store<u32>(pageTableBase + j * 4, a);
  }
  store<u32>(CFG_PAGE_SEED, seed);
}

/** Machine address of guest-physical `gpa`. The caller has checked gpa < guestRamBytes. */
// @ts-ignore: decorator
@inline export function machineAddress(gpa: u32): u32 {
  return guestRamBase + (load<u32>(pageTableBase + ((gpa >> PAGE_SHIFT) << 2)) << PAGE_SHIFT) + (gpa & (PAGE_SIZE - 1));
}
