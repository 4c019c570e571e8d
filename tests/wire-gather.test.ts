// Kernel gather: the native pump sends a WIRE_FLAG_GATHER record as one AF_PACKET iovec, or
// one AF_XDP descriptor, per piece pointing into the shared memory (native/pump.h). Through a veth pair between
// two namespaces, the peer must receive exactly the frames, in order, although each piece was
// overwritten as soon as the pump's cursor had passed its record (AF_PACKET copied it at send; AF_XDP had completed it).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { readCaptureFile } from "../src/capture/index.js";
import { countPcapRecords, PeerCapture, vethUnavailable, type VethPair } from "./helpers/veth.js";

const root = path.resolve(import.meta.dirname, "..");
const unavailable = vethUnavailable();
const ip = (...a: string[]) => { const r = spawnSync("ip", a, { encoding: "utf8" }); if (r.status !== 0) throw new Error(`ip ${a.join(" ")}: ${r.stderr}`); };

describe.skipIf(!!unavailable)("native pump, kernel gather (AF_PACKET iovecs into the memory)", () => {
  const id = `${process.pid}`;
  const pair: VethPair = { txNs: `gather-tx-${id}`, rxNs: `gather-rx-${id}`, tx: `gatt${id}`.slice(0, 15), rx: `gatr${id}`.slice(0, 15) } as VethPair;
  let dir = "";
  beforeAll(() => {
    ip("netns", "add", pair.txNs);
    ip("netns", "add", pair.rxNs);
    for (const ns of [pair.txNs, pair.rxNs]) spawnSync("ip", ["netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]);
    ip("link", "add", pair.tx, "netns", pair.txNs, "type", "veth", "peer", "name", pair.rx, "netns", pair.rxNs);
    ip("-n", pair.txNs, "link", "set", pair.tx, "up");
    ip("-n", pair.rxNs, "link", "set", pair.rx, "up");
    dir = mkdtempSync(path.join(tmpdir(), "vnic-gather-"));
  });
  afterAll(() => {
    spawnSync("ip", ["netns", "del", pair.txNs]);
    spawnSync("ip", ["netns", "del", pair.rxNs]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // AF_PACKET: one iovec per piece; AF_XDP: one multi-buffer descriptor chain per list.
  it.each(["af_packet", "af_xdp"])("%s sends each gather list as its frame, in order, unaffected by reuse after the cursor passed", async (backend) => {
    const frames: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      const len = 60 + ((i * 97) % 1455);
      const f = Buffer.alloc(len);
      for (let k = 0; k < len; k++) f[k] = (k * 7 + i * 13) & 0xff;
      Buffer.from("020000000001020000000002", "hex").copy(f, 0); // unicast, locally administered
      f.writeUInt16BE(0x88b5, 12); // local experimental ethertype: nothing in the namespace answers it
      f.writeUInt32BE(i, 14);
      frames.push(f);
    }
    const spec = path.join(dir, `frames-${backend}.json`);
    writeFileSync(spec, JSON.stringify(frames.map((f) => f.toString("hex"))));
    const rx = path.join(dir, `rx-${backend}.pcap`);
    const cap = await PeerCapture.start(pair, rx);
    const r = spawnSync("ip", ["netns", "exec", pair.txNs, process.execPath, path.join(root, "tests", "helpers", "gather-pump.cjs"), pair.tx, spec, backend], { encoding: "utf8", cwd: root });
    expect(r.status, r.stderr).toBe(0);
    const stats = JSON.parse(r.stdout);
    const { droppedByKernel } = await cap.stop(() => countPcapRecords(rx), frames.length);
    expect(droppedByKernel).toBe(0);
    expect(stats.sent).toBe(frames.length);
    expect(stats.bytes).toBe(frames.reduce((s, f) => s + f.length, 0));
    expect(stats.other + stats.oversize + stats.down + stats.gone).toBe(0);
    expect(stats.reused).toBe(frames.length);
    const got: Buffer[] = [];
    readCaptureFile(rx, (f) => { const b = Buffer.from(f.data); if (b.readUInt16BE(12) === 0x88b5) got.push(b); });
    expect(got.length).toBe(frames.length);
    for (let i = 0; i < frames.length; i++) expect(got[i].equals(frames[i]), `frame ${i}`).toBe(true);
  }, 30_000);
});
