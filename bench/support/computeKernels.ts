// Small C compute kernels (calls in a loop, an i32 matrix multiply, an insertion sort, u64 arithmetic), compiled with
// clang to a wasm module exporting each as `k_<name>(iters: u32) -> u32`. bench/runtime.ts times metering on them,
// bench/gasCalibration.ts checks the gas schedule's rate on them.
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { removeTempDir, tempDir } from "./processes.ts";

const run = promisify(execFile);

const KERNEL_C = `
typedef unsigned int u32;
typedef unsigned long long u64;
#define EXPORT(name) __attribute__((export_name(name)))

static u32 buf[4096];
static u32 ma[24 * 24], mb[24 * 24], mc[24 * 24];
static u32 arr[512];

/* Calls in a loop: every call is a function entry (gas + stack height checks) and a block boundary. */
__attribute__((noinline)) static u32 mix(u32 x, u32 y) {
  x ^= y + 0x9e3779b9u + (x << 6) + (x >> 2);
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}
EXPORT("k_calls") u32 k_calls(u32 iters) {
  u32 s = 1;
  for (u32 it = 0; it < iters; it++)
    for (u32 i = 0; i < 4096; i++) {
      s = mix(s, buf[i]);
      buf[i] = s;
    }
  return s;
}

/* i32 matrix multiply: long straight-line inner loop bodies. */
EXPORT("k_matmul") u32 k_matmul(u32 iters) {
  for (u32 i = 0; i < 24 * 24; i++) {
    ma[i] = i * 2654435761u;
    mb[i] = i ^ 0x5bd1e995u;
  }
  u32 s = 0;
  for (u32 it = 0; it < iters; it++) {
    for (u32 i = 0; i < 24; i++)
      for (u32 j = 0; j < 24; j++) {
        u32 acc = 0;
        for (u32 k = 0; k < 24; k++) acc += ma[i * 24 + k] * mb[k * 24 + j];
        mc[i * 24 + j] = acc;
      }
    s += mc[it % (24 * 24)];
    ma[it % (24 * 24)] ^= s;
  }
  return s;
}

/* Insertion sort of pseudo-random data: short, branchy basic blocks. */
EXPORT("k_sort") u32 k_sort(u32 iters) {
  u32 seed = 12345, s = 0;
  for (u32 it = 0; it < iters; it++) {
    for (u32 i = 0; i < 512; i++) {
      seed = seed * 1103515245u + 12345u;
      arr[i] = seed >> 8;
    }
    for (u32 i = 1; i < 512; i++) {
      u32 v = arr[i];
      u32 j = i;
      while (j > 0 && arr[j - 1] > v) {
        arr[j] = arr[j - 1];
        j--;
      }
      arr[j] = v;
    }
    s += arr[it & 511];
  }
  return s;
}

/* u64 multiply-accumulate with carries, like the u256 arithmetic of token contracts. */
EXPORT("k_u64") u32 k_u64(u32 iters) {
  u64 a0 = 0x0123456789abcdefull, a1 = 0xfedcba9876543210ull, acc = 0, carry = 0;
  for (u32 it = 0; it < iters; it++)
    for (u32 i = 0; i < 1024; i++) {
      u64 lo = (a0 & 0xffffffffull) * (a1 >> 32);
      u64 hi = (a0 >> 32) * (a1 & 0xffffffffull);
      u64 sum = acc + lo;
      carry += sum < acc;
      acc = sum ^ (hi << 1);
      a0 = a0 * 6364136223846793005ull + 1442695040888963407ull;
      a1 ^= a0 >> 29;
    }
  return (u32)(acc ^ carry ^ (acc >> 32));
}
`;

export const KERNELS = ["k_calls", "k_matmul", "k_sort", "k_u64"] as const;

export async function compileKernel(): Promise<Uint8Array> {
  const dir = tempDir("rustchain-bench-runtime-kernel-");
  try {
    const src = join(dir, "kernel.c");
    const out = join(dir, "kernel.wasm");
    await writeFile(src, KERNEL_C);
    const clang = process.env.CLANG ?? "clang";
    await run(
      clang,
      [
        "--target=wasm32",
        "-mcpu=mvp",
        "-nostdlib",
        "-ffreestanding",
        "-O2",
        "-Wl,--no-entry",
        "-Wl,--strip-all",
        ...KERNELS.map((k) => `-Wl,--export=${k}`),
        "-o",
        out,
        src,
      ],
      { timeout: 60_000 },
    );
    return new Uint8Array(await readFile(out));
  } finally {
    removeTempDir(dir);
  }
}
