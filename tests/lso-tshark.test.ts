// tshark as an oracle nobody here wrote (docs/design.md §7): the output of the conformance captures
// (tcpdump's BIG TCP and GSO captures, Wireshark's TSO capture) and of the repo's generated
// super-packet captures, replayed through the real datapath with --out, must hold no bad IPv4
// header, TCP or UDP checksum — and tshark must actually have validated some (a run where
// nothing was checked would pass vacuously).

import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { replay } from "../src/replay/replay.js";

const root = path.resolve(import.meta.dirname, "..");
const conformance = path.resolve(root, "../shared/captures/conformance");
const out = mkdtempSync(path.join(tmpdir(), "vnic-lso-tshark-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const haveTshark = spawnSync("tshark", ["-v"], { encoding: "utf8" }).status === 0;
if (!haveTshark) console.log("lso-tshark: tshark is not on PATH (Debian package tshark): skipped");
if (!existsSync(conformance)) console.log(`lso-tshark: ${conformance} is absent: its captures are skipped`);

const CAPTURES = [
  ...["bigtcp-ipv4", "bigtcp-ipv6", "bigtcp-ipv6-hbh", "gso-ipv4", "gso-ipv6", "ipv4_tcp_http_xml_tso"].map((n) => path.join(conformance, `${n}.pcap`)),
  ...["tcp-64k-v4", "tcp-64k-v6", "bigtcp-185k-v4", "bigtcp-185k-v6", "bigtcp-185k-v6-hbh"].map((n) => path.join(root, "captures", `${n}.pcap`)),
].filter((f) => existsSync(f));

/** Checksum verdicts tshark gives the file: tshark's checksum.status is 0 bad, 1 good, 2 unverified. */
export function tsharkChecksums(file: string): { good: number; tcpGood: number; udpGood: number; bad: number; frames: number; badFrames: string[] } {
  const r = spawnSync(
    "tshark",
    ["-r", file, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
      "-T", "fields", "-E", "separator=/t", "-e", "frame.number", "-e", "ip.checksum.status", "-e", "tcp.checksum.status", "-e", "udp.checksum.status"],
    { encoding: "utf8", maxBuffer: 256 << 20 },
  );
  if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
  let good = 0, tcpGood = 0, udpGood = 0, bad = 0, frames = 0;
  const badFrames: string[] = [];
  for (const line of r.stdout.split("\n")) {
    if (!line) continue;
    frames++;
    const [num, ...fields] = line.split("\t");
    if (fields[1].split(",").includes("1")) tcpGood++;
    if ((fields[2] ?? "").split(",").includes("1")) udpGood++;
    for (const v of fields.flatMap((f) => f.split(","))) {
      if (v === "1") good++;
      else if (v === "0") {
        bad++;
        if (badFrames.length < 5) badFrames.push(`${num}: ${fields.join(" | ")}`);
      }
    }
  }
  return { good, tcpGood, udpGood, bad, frames, badFrames };
}

describe.skipIf(!haveTshark || CAPTURES.length === 0)("tshark finds no bad checksum in the segmented output", () => {
  it.each(CAPTURES.map((f) => [path.relative(root, f), f]))("%s", async (_, capture) => {
    const file = path.join(out, path.basename(capture));
    const r = await replay({ capture, out: file, params: { mtu: 1500 }, loops: 1, limit: 0 });
    const v = tsharkChecksums(file);
    rmSync(file);
    const wireFrames = r.snapshot.counters.wireFrames;
    expect(BigInt(v.frames)).toBe(wireFrames);
    expect(v.badFrames).toEqual([]);
    expect(v.bad).toBe(0);
    if (wireFrames > 0n) expect(v.good).toBeGreaterThan(0);
    // … and the TCP checksums of the segments themselves were verified, not skipped.
    expect(BigInt(v.tcpGood)).toBeGreaterThanOrEqual(r.snapshot.counters.segments);
    // Each of these captures holds large sends: the LSO path made segments from them.
    expect(r.snapshot.counters.segments).toBeGreaterThan(0n);
  }, 120_000);
});

// USO and UDP tunnels: every tunnel and UDP GSO capture in ../shared/captures/ and the
// kernel's inputs in captures/linux-gso/. A tunnel's segments must carry a verified inner TCP
// checksum each (tshark decodes VXLAN on 4789 and Geneve on 6081); a USO segment a verified UDP one.
const real = path.resolve(root, "../shared/captures/real");
const linuxGso = path.join(root, "captures/linux-gso");
const TUNNELS = [
  ...["ipv4", "ipv6"].flatMap((i) => ["vxlan", "geneve"].flatMap((t) => ["ipv4", "ipv6"].flatMap((o) =>
    [`gso-${i}-${t}-${o}`, `bigtcp-${i}-${t}-${o}`]))).map((n) => path.join(conformance, `${n}.pcap`)),
  ...["tso-gso-ipv4-vxlan-ipv4", "tso-gso-ipv6-geneve-ipv6", "tso-bigtcp-ipv6-vxlan-ipv4", "tso-geneve-47101"].map((n) => path.join(real, `${n}.pcap`)),
  ...["vxlan-v4-csum", "vxlan-v4-nocsum", "vxlan-v6-csum", "vxlan-v6-v6inner"].map((n) => path.join(linuxGso, `${n}.in.pcap`)),
].filter((f) => existsSync(f));
const USO = [
  path.join(real, "jumbo-udp-9k.pcap"),
  ...["uso-v4-mtu", "uso-v6-mtu", "uso-v4-1200", "uso-v6-1200"].map((n) => path.join(linuxGso, `${n}.in.pcap`)),
].filter((f) => existsSync(f));

describe.skipIf(!haveTshark || TUNNELS.length + USO.length === 0)("tshark: no bad checksum in USO and tunnel output", () => {
  const cases = [...TUNNELS.map((f) => ({ f, kind: "tunnel" })), ...USO.map((f) => ({ f, kind: "uso" }))];
  // --nic-tunnel-lso off changes only tunnels: USO captures run once.
  const runs = cases.flatMap((c) => (c.kind === "tunnel" ? [0, 1] : [0]).map((off) => ({ ...c, off, name: `${path.relative(root, c.f)}${off ? " --nic-tunnel-lso off" : ""}` })));
  it.each(runs)("$name", async (c) => {
    const file = path.join(out, `${c.off}-${path.basename(c.f)}`);
    const r = await replay({ capture: c.f, out: file, params: { mtu: 1500, nicTunnelLsoOff: c.off }, loops: 1, limit: 0 });
    const v = tsharkChecksums(file);
    rmSync(file);
    const k = r.snapshot.counters;
    expect(BigInt(v.frames)).toBe(k.wireFrames);
    expect(v.badFrames).toEqual([]);
    expect(v.bad).toBe(0);
    expect(k.superPackets).toBeGreaterThan(0n);
    expect(Object.entries(r.snapshot.drops).filter(([, n]) => n > 0n)).toEqual([]);
    const madeInSoftware = c.kind === "tunnel" && c.off === 1;
    if (!madeInSoftware) expect(k.segments).toBeGreaterThan(0n);
    if (c.kind === "tunnel") expect(BigInt(v.tcpGood)).toBeGreaterThanOrEqual(madeInSoftware ? 1n : k.segments);
    else expect(BigInt(v.udpGood)).toBeGreaterThanOrEqual(k.segments);
  }, 120_000);
});
