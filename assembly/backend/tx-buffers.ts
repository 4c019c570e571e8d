// The device's pool of pre-translated transmit buffers (US 7,657,659 / 7,831,739).
//
// One 256-byte buffer per physical TX ring slot: a 16-byte header written once, when the
// pool is made, then POOL_DATA_SIZE bytes of data. The header holds the machine address of
// the data, so the fast path never translates a pool buffer: it reads the address the buffer
// already knows (the way ixy's memory pool records each buffer's physical address).
//
// Buffer header (16 bytes):
//   +0  u32 machine address of the data area
//   +4  u32 buffer index (== physical ring slot index & mask)
//   +8  u32 POOL_BUF_MAGIC, checked by the layout test
//   +12 u32 reserved
//
// Ownership follows the physical ring: buffer i belongs to whichever descriptor sits in
// slot i, so it is recycled exactly when the NIC releases that slot. An exhausted pool is a
// full physical ring, and the translate stage waits (backpressure), never drops.

import { POOL_BUF_SIZE, POOL_HDR_SIZE, poolBase, ringSlots } from "../shared/layout";

export const POOL_BUF_MAGIC: u32 = 0x504f4f4c; // "POOL"
export const PB_DATA_ADDR: u32 = 0;
export const PB_INDEX: u32 = 4;
export const PB_MAGIC: u32 = 8;

export function poolInit(): void {
  for (let i: u32 = 0; i < ringSlots; i++) {
    const buf = poolBase + i * POOL_BUF_SIZE;
    store<u32>(buf + PB_DATA_ADDR, buf + POOL_HDR_SIZE);
    store<u32>(buf + PB_INDEX, i);
    store<u32>(buf + PB_MAGIC, POOL_BUF_MAGIC);
    store<u32>(buf + 12, 0);
  }
}

/** The buffer that belongs to physical ring slot index `slot` (free-running). */
// @ts-ignore: decorator
@inline export function poolBuffer(slot: u32): u32 {
  return poolBase + (slot & (ringSlots - 1)) * POOL_BUF_SIZE;
}

/** Machine address of a buffer's data area, as recorded when the pool was made. */
// @ts-ignore: decorator
@inline export function poolData(buf: u32): u32 {
  return load<u32>(buf + PB_DATA_ADDR);
}
