// Copies of a few hundred bytes at most, inline: the partial copy's headers, small frames into
// the pool buffer and then onto the wire, the guest's small frames into guest RAM.
//
// Why not memory.copy: V8 compiles memory.copy into a call out of the generated code (a bounds
// check and a C memmove), a fixed cost of several ns that dwarfs moving 42–240 bytes; the
// device pays it two or three times per small frame. Here the bytes move in 16-byte SIMD
// loads and stores, the last block overlapping the one before it so that nothing outside
// [src, src + n) is read and nothing outside [dst, dst + n) is written (exactly memory.copy's
// footprint, which is what keeps guard pages and the guest's neighbouring buffers safe).
// The regions never overlap here (guest RAM, pool, wire and arena are disjoint), so a
// forward copy is exact. Longer copies, where the call's cost no longer matters and memmove's
// wide loops win, still go to memory.copy.

const INLINE_MAX: u32 = 256;

/** memory.copy(dst, src, n) for non-overlapping regions, inline up to INLINE_MAX bytes. */
// @ts-ignore: decorator
@inline export function copyBytes(dst: u32, src: u32, n: u32): void {
  if (n >= 16 && n <= INLINE_MAX) copySimd(dst, src, n);
  else memory.copy(dst, src, n);
}

function copySimd(dst: u32, src: u32, n: u32): void {
  const last = n - 16;
  let i: u32 = 0;
  for (; i < last; i += 16) v128.store(dst + i, v128.load(src + i));
  v128.store(dst + last, v128.load(src + last));
}
