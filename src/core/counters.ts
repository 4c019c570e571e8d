// Reads the core's counters by the names the core exports (C_* and DROP_*).

import type { Core, CounterName } from "./core.js";

export interface CounterSnapshot {
  /** Every C_<name> counter, keyed by the core's own names (a renamed counter is a compile
   *  error wherever the host reads it). */
  counters: Record<CounterName, bigint>;
  /** Every DROP_<reason> drop counter. */
  drops: Record<string, bigint>;
}

export function readCounters(core: Core): CounterSnapshot {
  const x = core.exports;
  const counters = {} as Record<CounterName, bigint>;
  for (const [name, id] of core.constantsWithPrefix("C_")) counters[name as CounterName] = BigInt.asUintN(64, x.counter(id));
  const drops: Record<string, bigint> = {};
  for (const [name, status] of core.constantsWithPrefix("DROP_")) drops[name] = BigInt.asUintN(64, x.dropCount(status));
  return { counters, drops };
}

export function totalDrops(s: CounterSnapshot): bigint {
  return Object.values(s.drops).reduce((a, b) => a + b, 0n);
}
