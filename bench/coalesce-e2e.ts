// End-to-end side by side: 64-byte frames through the real two-thread datapath under each
// coalescing policy, interleaved A/B/A/B so the machine's noise hits all alike.
//   npm run build && node dist/bench/coalesce-e2e.js [frames] [reps] [policies...]
import { Datapath } from "../src/datapath/datapath.js";
import { applyCoalesce, parseCoalesce } from "../src/replay/coalesce-options.js";
import { helpIfAsked } from "../src/perf/bench-help.js";

helpIfAsked(import.meta.url);

const frames = Number(process.argv[2] ?? 2_000_000);
const reps = Number(process.argv[3] ?? 3);
const policies = process.argv.length > 4 ? process.argv.slice(4) : ["none", "adaptive"];

function frame64(i: number): Uint8Array {
  const f = new Uint8Array(60); // + 4 FCS on the wire = 64
  f.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00]); // Ethernet, IPv4
  f.set([0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14); // IPv4/UDP
  f.set([0x30, 0x39, 0x00, 0x35, 0, 26, 0, 0], 34);
  f[42] = i & 0xff;
  return f;
}

async function once(policy: string) {
  const n = 1024;
  const dp = new Datapath(n * 80, { loops: Math.ceil(frames / n), limit: frames });
  for (let i = 0; i < n; i++) dp.placeFrame(frame64(i), BigInt(i) * 1000n);
  applyCoalesce(dp.core, parseCoalesce(policy));
  const r = await dp.run();
  const c = r.counters.counters;
  return { policy, pps: Number(c.deviceCompleted) / r.elapsedSeconds, interrupts: Number(c.interrupts), wakeups: Number(c.wakeups),
    perInterrupt: Number(c.guestCompleted) / Math.max(1, Number(c.interrupts)), stranded: Number(c.stranded), sleeps: Number(c.guestSleeps) };
}

const results: Record<string, Awaited<ReturnType<typeof once>>[]> = {};
for (let i = 0; i < reps; i++) for (const p of policies) (results[p] ??= []).push(await once(p));
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const base = med(results[policies[0]].map((r) => r.pps));
for (const p of policies) {
  const rs = results[p], pps = rs.map((r) => r.pps);
  console.log(`${p.padEnd(18)} ${(med(pps) / 1e6).toFixed(2)} Mpps (min ${(Math.min(...pps) / 1e6).toFixed(2)}, max ${(Math.max(...pps) / 1e6).toFixed(2)})  ` +
    `x${(med(pps) / base).toFixed(2)}  interrupts ${med(rs.map((r) => r.interrupts))}  wakeups ${med(rs.map((r) => r.wakeups))}  ` +
    `guest sleeps ${med(rs.map((r) => r.sleeps))}  compl/intr ${med(rs.map((r) => r.perInterrupt)).toFixed(2)}  stranded ${Math.max(...rs.map((r) => r.stranded))}`);
}
