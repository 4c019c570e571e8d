// Plain TypeScript reference of vnic's offload rules (docs/design.md §5): the differential oracle for
// property tests against the wasm core and the JS baseline in benchmarks. Not used on the
// datapath itself.

export * from "./checksum.js";
export * from "./errors.js";
export * from "./headers.js";
export * from "./piece.js";
export * from "./segment.js";
export * from "./stage1.js";
export * from "./csum.js";
export * from "./offload.js";
export * from "./uso.js";
export * from "./tunnel.js";
