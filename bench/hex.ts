// `npm run bench:hex`: shared's byte helpers (shared/src/hex.ts: plain Uint8Array code, so shared runs in Workers)
// against Node's Buffer, which they replaced. Sizes are what the node's hot path sees: 20-byte addresses, 32-byte
// hashes, a 110-byte signed transfer; 1 KiB and 16 KiB stand for contract data and code. Each case runs a fixed
// time in rounds, alternating the two implementations, and reports the better round of each in million calls/s.
// Ends with one line (ratios shared/Buffer at 32 and 110 bytes, the sizes of the tx path):
//   hex bytesToHex_32=<r> bytesToHex_110=<r> decodeHexData_32=<r> decodeHexData_110=<r> equalBytes_32=<r> compareBytes_32=<r> concatBytes_32=<r>
//
// Options: --ms N (time per round, default 150), --rounds R (default 5).
import { parseArgs } from "node:util";
import { bytesToHex, compareBytes, concatBytes, decodeHexData, equalBytes } from "@rustchain/shared/hex";
import { intOpt } from "./support/cli.ts";

const { values } = parseArgs({ options: { ms: { type: "string" }, rounds: { type: "string" } } });
const ROUND_MS = values.ms === undefined ? 150 : intOpt("ms", values.ms, 1);
const ROUNDS = values.rounds === undefined ? 5 : intOpt("rounds", values.rounds, 1);

interface Helpers {
  bytesToHex(b: Uint8Array): string;
  decodeHexData(hex: string): Uint8Array | undefined;
  equalBytes(a: Uint8Array, b: Uint8Array): boolean;
  compareBytes(a: Uint8Array, b: Uint8Array): number;
  concatBytes(...parts: Uint8Array[]): Uint8Array;
}

// What shared/src/hex.ts did with Buffer before it became Buffer-free.
const buffer: Helpers = {
  bytesToHex: (b: Uint8Array) => `0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex")}`,
  decodeHexData(hex: string): Uint8Array | undefined {
    if (hex.length % 2 !== 0 || !hex.startsWith("0x")) return undefined;
    const out = new Uint8Array((hex.length - 2) / 2);
    return Buffer.from(out.buffer).write(hex.slice(2), "hex") === out.length ? out : undefined;
  },
  equalBytes: (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0,
  compareBytes: (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b),
  concatBytes: (...p: Uint8Array[]) => new Uint8Array(Buffer.concat(p)),
};
const shared: Helpers = { bytesToHex, decodeHexData, equalBytes, compareBytes, concatBytes };

let sink = 0;
const seen = new Set<string>();
/** Million calls/s of `fn(i)` for i = 0, 1, 2, ... over one round. */
function round(fn: (i: number) => unknown): number {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ROUND_MS) {
    for (let i = 0; i < 1000; i++) sink += fn(calls + i) ? 1 : 0;
    calls += 1000;
    elapsed = performance.now() - start;
  }
  return calls / elapsed / 1000;
}

function compare(make: (impl: Helpers) => (i: number) => unknown): { shared: number; buffer: number } {
  const ours = make(shared);
  const theirs = make(buffer);
  let best = { shared: 0, buffer: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    best = { shared: Math.max(best.shared, round(ours)), buffer: Math.max(best.buffer, round(theirs)) };
  }
  return best;
}

const SIZES = [20, 32, 110, 1024, 16384];
const ratios: Record<string, number> = {};
console.log("M calls/s (best of rounds)           shared    Buffer   shared/Buffer");
for (const size of SIZES) {
  const inputs = Array.from({ length: 64 }, () => crypto.getRandomValues(new Uint8Array(size)));
  const copies = inputs.map((b) => b.slice());
  const hexes = inputs.map((b, i) => (i % 2 ? bytesToHex(b) : `0x${bytesToHex(b).slice(2).toUpperCase()}`));
  for (const [i, b] of inputs.entries()) {
    if (bytesToHex(b) !== buffer.bytesToHex(b) || !equalBytes(decodeHexData(hexes[i] as string) as Uint8Array, b))
      throw new Error("shared and Buffer disagree");
  }
  const at = (i: number) => i & 63;
  const cases: [string, (impl: Helpers) => (i: number) => unknown][] = [
    // The result is used as a key, as the node does with hashes and addresses: a string that is not flat yet (a
    // concatenation rope) pays for flattening there.
    ["bytesToHex", (impl) => (i) => seen.has(impl.bytesToHex(inputs[at(i)] as Uint8Array))],
    ["decodeHexData", (impl) => (i) => impl.decodeHexData(hexes[at(i)] as string)],
    ["equalBytes", (impl) => (i) => impl.equalBytes(inputs[at(i)] as Uint8Array, copies[at(i)] as Uint8Array)],
    ["compareBytes", (impl) => (i) => impl.compareBytes(inputs[at(i)] as Uint8Array, copies[at(i)] as Uint8Array)],
    [
      "concatBytes",
      (impl) => (i) =>
        impl.concatBytes(inputs[at(i)] as Uint8Array, copies[at(i + 1)] as Uint8Array, new Uint8Array(1)),
    ],
  ];
  for (const [name, make] of cases) {
    const r = compare(make);
    const ratio = r.shared / r.buffer;
    ratios[`${name}_${size}`] = ratio;
    console.log(
      `${`${name} ${size} B`.padEnd(34)} ${r.shared.toFixed(2).padStart(8)}  ${r.buffer.toFixed(2).padStart(8)}  ${ratio.toFixed(2).padStart(8)}`,
    );
  }
}
if (sink < 0) console.log(sink);
const summary = [
  "bytesToHex_32",
  "bytesToHex_110",
  "decodeHexData_32",
  "decodeHexData_110",
  "equalBytes_32",
  "compareBytes_32",
  "concatBytes_32",
];
console.log(`hex ${summary.map((k) => `${k}=${(ratios[k] as number).toFixed(2)}`).join(" ")}`);
