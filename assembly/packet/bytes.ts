// Network-byte-order accessors over raw memory. Every wire view reads and writes through these.

// @ts-ignore: decorator
@inline export function be16(p: u32): u32 {
  return <u32>bswap<u16>(load<u16>(p));
}

// @ts-ignore: decorator
@inline export function be32(p: u32): u32 {
  return bswap<u32>(load<u32>(p));
}

// @ts-ignore: decorator
@inline export function setBe16(p: u32, v: u32): void {
  store<u16>(p, bswap<u16>(<u16>v));
}

// @ts-ignore: decorator
@inline export function setBe32(p: u32, v: u32): void {
  store<u32>(p, bswap<u32>(v));
}
