// Capture ingest rate: packets per second read from a capture file already in the page cache,
// for the native sync reader (readCaptureFile), the bounded batch stream (openCaptureStream,
// copying), and pcap-parser, bare and behind readPcapStream. Interleaved runs on the same
// files, medians and spread. Run: npm run build && node dist/bench/capture-ingest.js [--runs N]

import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pcapParser from "pcap-parser";
import { readCaptureFile, readPcapStream, openCaptureStream } from "../src/capture/index.js";
import { generateCapture, GEN_DEFAULTS } from "../src/capture/generate.js";
import { helpIfAsked } from "../src/perf/bench-help.js";

helpIfAsked(import.meta.url);

type Reader = { name: string; read: (file: string) => Promise<number> };

const readers: Reader[] = [
  { name: "native readCaptureFile (sync)", read: async (f) => readCaptureFile(f, () => {}).frames },
  {
    name: "native openCaptureStream (batches, copied)",
    read: async (f) => {
      const s = openCaptureStream(f);
      let n = 0;
      for (let b = s.nextBatch(); b.length > 0; b = s.nextBatch()) n += b.length;
      s.close();
      return n;
    },
  },
  { name: "pcap-parser via readPcapStream", read: async (f) => (await readPcapStream(f, () => {})).frames },
  {
    name: "pcap-parser bare",
    read: (f) =>
      new Promise((resolve, reject) => {
        let n = 0;
        const p = pcapParser.parse(f);
        p.on("packet", () => n++);
        p.on("error", reject);
        p.on("end", () => resolve(n));
      }),
  },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (pps: number) => (pps >= 1e6 ? `${(pps / 1e6).toFixed(2)} Mpps` : `${(pps / 1e3).toFixed(0)} kpps`);

async function measure(file: string, runs: number): Promise<void> {
  const frames = await readers[0].read(file);
  const mb = statSync(file).size / 1e6;
  for (const r of readers) if ((await r.read(file)) !== frames) throw new Error(`${r.name} read a different number of frames`); // also warms the cache and the JIT
  const times: number[][] = readers.map(() => []);
  for (let run = 0; run < runs; run++) {
    for (const [i, r] of readers.entries()) {
      const t0 = process.hrtime.bigint();
      await r.read(file);
      times[i].push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
  }
  console.log(`\n${file.split("/").pop()}: ${frames} frames, ${mb.toFixed(1)} MB; median of ${runs} interleaved runs (spread = slowest..fastest)`);
  const base = frames / median(times[0]);
  for (const [i, r] of readers.entries()) {
    const pps = frames / median(times[i]);
    const lo = frames / Math.max(...times[i]);
    const hi = frames / Math.min(...times[i]);
    console.log(`  ${r.name.padEnd(44)} ${fmt(pps).padStart(10)}  (${fmt(lo)}..${fmt(hi)})  ${(mb / median(times[i])).toFixed(0).padStart(5)} MB/s  ×${(pps / base).toFixed(2)}`);
  }
}

async function main() {
  const i = process.argv.indexOf("--runs");
  const runs = i > 0 ? Number(process.argv[i + 1]) : 5;
  const dir = mkdtempSync(join(tmpdir(), "vnic-ingest-"));
  try {
    const small = join(dir, "udp-64x300k.pcap");
    const large = join(dir, "udp-1514x30k.pcap");
    generateCapture({ ...GEN_DEFAULTS, kind: "udp", size: 64, count: 300_000 }, small);
    generateCapture({ ...GEN_DEFAULTS, kind: "udp", size: 1514, count: 30_000 }, large);
    console.log(`node ${process.version}, ${runs} runs`);
    await measure(small, runs);
    await measure(large, runs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
