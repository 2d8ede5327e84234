import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AiError,
  argmaxI8,
  elementwisePrice,
  encodeMlpModel,
  type MlpLayer,
  type MlpModel,
  matmulI8,
  matmulPrice,
  mlpForward,
  mlpPrice,
  parseMlpModel,
  reluI8,
  requantize,
} from "./int8Kernels.ts";

// ---- deliberately plain reference: BigInt arithmetic, nested loops, explicit floor division and clamping ----

const TWO32 = 1n << 32n;

function refWrapI32(v: bigint): bigint {
  let r = v % TWO32;
  if (r < 0n) r += TWO32;
  return r >= 1n << 31n ? r - TWO32 : r;
}

function refFloorDiv(a: bigint, b: bigint): bigint {
  // BigInt division truncates towards zero; adjust to floor for negative non-exact quotients.
  const q = a / b;
  return q * b !== a && a < 0n !== b < 0n ? q - 1n : q;
}

function refClamp8(v: bigint): number {
  if (v < -128n) return -128;
  if (v > 127n) return 127;
  return Number(v);
}

function refMatmul(a: number[], b: number[], m: number, k: number, n: number): number[] {
  const c: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0n;
      for (let t = 0; t < k; t++) sum += BigInt(a[i * k + t]) * BigInt(b[t * n + j]);
      c.push(Number(refWrapI32(sum)));
    }
  }
  return c;
}

function refRequantize(x: number[], multiplier: number, shift: number): number[] {
  const half = shift > 0 ? 2n ** BigInt(shift - 1) : 0n;
  const div = 2n ** BigInt(shift);
  return x.map((v) => refClamp8(refFloorDiv(BigInt(v) * BigInt(multiplier) + half, div)));
}

function refRelu(x: number[]): number[] {
  return x.map((v) => (v > 0 ? v : 0));
}

function refArgmax(x: number[]): number {
  let best = 0;
  for (let i = 0; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

interface RefLayer {
  inDim: number;
  outDim: number;
  multiplier: number;
  shift: number;
  relu: boolean;
  weights: number[];
  bias: number[];
}

function refMlp(layers: RefLayer[], input: number[]): number[] {
  let x = input;
  for (const l of layers) {
    const acc: number[] = [];
    for (let j = 0; j < l.outDim; j++) {
      let sum = BigInt(l.bias[j]);
      for (let t = 0; t < l.inDim; t++) sum += BigInt(x[t]) * BigInt(l.weights[t * l.outDim + j]);
      acc.push(Number(refWrapI32(sum)));
    }
    let y = refRequantize(acc, l.multiplier, l.shift);
    if (l.relu) y = refRelu(y);
    x = y;
  }
  return x;
}

// ---- generators ----

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

const int8 = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(-128, 127, 0, -1, 1) },
  { weight: 4, arbitrary: fc.integer({ min: -128, max: 127 }) },
);
const int32 = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(I32_MIN, I32_MAX, 0, -1, 1, -(2 ** 16), 2 ** 16) },
  { weight: 4, arbitrary: fc.integer({ min: I32_MIN, max: I32_MAX }) },
  { weight: 2, arbitrary: fc.integer({ min: -100_000, max: 100_000 }) },
);
const multiplier = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 65535, 32768) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 65535 }) },
);
const shift = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 31, 30, 16) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 31 }) },
);

const matmulCase = fc
  .record({ m: fc.integer({ min: 0, max: 6 }), k: fc.integer({ min: 0, max: 12 }), n: fc.integer({ min: 0, max: 6 }) })
  .chain(({ m, k, n }) =>
    fc.record({
      m: fc.constant(m),
      k: fc.constant(k),
      n: fc.constant(n),
      a: fc.array(int8, { minLength: m * k, maxLength: m * k }),
      b: fc.array(int8, { minLength: k * n, maxLength: k * n }),
    }),
  );

function layerArb(inDim: number, outDim: number): fc.Arbitrary<RefLayer> {
  return fc.record({
    inDim: fc.constant(inDim),
    outDim: fc.constant(outDim),
    multiplier,
    shift,
    relu: fc.boolean(),
    weights: fc.array(int8, { minLength: inDim * outDim, maxLength: inDim * outDim }),
    bias: fc.array(int32, { minLength: outDim, maxLength: outDim }),
  });
}

const mlpCase = fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 2, maxLength: 5 }).chain((dims) =>
  fc.record({
    layers: fc.tuple(...dims.slice(1).map((out, i) => layerArb(dims[i], out))),
    input: fc.array(int8, { minLength: dims[0], maxLength: dims[0] }),
  }),
);

function toModel(layers: RefLayer[]): MlpModel {
  return {
    layers: layers.map((l): MlpLayer => ({ ...l, weights: Int8Array.from(l.weights), bias: Int32Array.from(l.bias) })),
  };
}

function aiCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof AiError) return e.type.code;
    throw e;
  }
  return "no error";
}

// ---- kernels ----

describe("matmulI8", () => {
  it("matches the BigInt reference on random shapes and values", () => {
    fc.assert(
      fc.property(matmulCase, ({ m, k, n, a, b }) => {
        const got = matmulI8(Int8Array.from(a), Int8Array.from(b), m, k, n);
        expect(Array.from(got)).toEqual(refMatmul(a, b, m, k, n));
      }),
      { numRuns: 500 },
    );
  });

  it("wraps modulo 2^32 for long extreme rows", () => {
    // k = 2^17 + 2^16 products of (-128)·(-128) = 2^14: the sum 2^31 + 2^30 exceeds int32.
    const k = (1 << 17) + (1 << 16);
    const a = new Int8Array(k).fill(-128);
    const b = new Int8Array(k).fill(-128);
    const got = matmulI8(a, b, 1, k, 1);
    expect(got[0]).toBe(Number(refWrapI32(BigInt(k) * 16384n)));
    expect(got[0]).toBe(-(2 ** 30));
  });

  it("rejects buffers that do not match the shape", () => {
    expect(aiCode(() => matmulI8(new Int8Array(5), new Int8Array(6), 2, 3, 2))).toBe("AI_DIMENSION_MISMATCH");
    expect(aiCode(() => matmulI8(new Int8Array(6), new Int8Array(5), 2, 3, 2))).toBe("AI_DIMENSION_MISMATCH");
    expect(aiCode(() => matmulI8(new Int8Array(0), new Int8Array(0), -1, 0, 0))).toBe("AI_INVALID_ARGUMENT");
  });
});

describe("requantize", () => {
  it("matches the BigInt reference including extremes", () => {
    fc.assert(
      fc.property(fc.array(int32, { maxLength: 40 }), multiplier, shift, (x, mul, sh) => {
        const got = requantize(Int32Array.from(x), mul, sh);
        expect(Array.from(got)).toEqual(refRequantize(x, mul, sh));
      }),
      { numRuns: 1000 },
    );
  });

  it("handles the corner cases exactly", () => {
    const x = Int32Array.from([I32_MIN, I32_MAX, -1, 1, 0, 3, -3, 5, -5]);
    for (const mul of [0, 1, 65535]) {
      for (const sh of [0, 1, 31]) {
        expect(Array.from(requantize(x, mul, sh))).toEqual(refRequantize(Array.from(x), mul, sh));
      }
    }
    // Halves round towards +∞: 3/2 = 1.5 → 2, -3/2 = -1.5 → -1, -5/2 = -2.5 → -2.
    expect(Array.from(requantize(Int32Array.from([3, -3, -5]), 1, 1))).toEqual([2, -1, -2]);
    // Largest product: (-2^31)·65535 >> 31 = -65535 → clamped.
    expect(Array.from(requantize(Int32Array.from([I32_MIN, I32_MAX]), 65535, 31))).toEqual([-128, 127]);
  });

  it("rejects out-of-range parameters", () => {
    expect(aiCode(() => requantize(new Int32Array(1), 65536, 0))).toBe("AI_INVALID_ARGUMENT");
    expect(aiCode(() => requantize(new Int32Array(1), -1, 0))).toBe("AI_INVALID_ARGUMENT");
    expect(aiCode(() => requantize(new Int32Array(1), 1, 32))).toBe("AI_INVALID_ARGUMENT");
    expect(aiCode(() => requantize(new Int32Array(1), 1.5, 0))).toBe("AI_INVALID_ARGUMENT");
  });
});

describe("relu and argmax", () => {
  it("relu matches the reference, in place", () => {
    fc.assert(
      fc.property(fc.array(int8, { maxLength: 64 }), (x) => {
        const arr = Int8Array.from(x);
        const ret = reluI8(arr);
        expect(ret).toBe(arr);
        expect(Array.from(arr)).toEqual(refRelu(x));
      }),
    );
  });

  it("argmax returns the first maximum", () => {
    fc.assert(
      fc.property(fc.array(int8, { minLength: 1, maxLength: 64 }), (x) => {
        expect(argmaxI8(Int8Array.from(x))).toBe(refArgmax(x));
      }),
    );
    expect(argmaxI8(Int8Array.from([-128, 127, 127]))).toBe(1);
    expect(argmaxI8(Int8Array.from([-128, -128]))).toBe(0);
    expect(aiCode(() => argmaxI8(new Int8Array(0)))).toBe("AI_INVALID_ARGUMENT");
  });
});

// ---- MLP ----

describe("MLP", () => {
  it("forward matches the reference and round-trips through the byte format", () => {
    fc.assert(
      fc.property(mlpCase, ({ layers, input }) => {
        const bytes = encodeMlpModel(toModel(layers));
        const model = parseMlpModel(bytes);
        expect(model).toEqual(toModel(layers));
        expect(Array.from(mlpForward(model, Int8Array.from(input)))).toEqual(refMlp(layers, input));
      }),
      { numRuns: 300 },
    );
  });

  it("parses from a view with a non-zero byte offset", () => {
    const model = toModel([
      { inDim: 2, outDim: 1, multiplier: 1, shift: 0, relu: false, weights: [1, -1], bias: [I32_MIN] },
    ]);
    const bytes = encodeMlpModel(model);
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    expect(parseMlpModel(padded.subarray(3))).toEqual(model);
  });

  it("prices as Σ (inDim·outDim + 2·outDim + 100)", () => {
    fc.assert(
      fc.property(mlpCase, ({ layers }) => {
        const expected = layers.reduce((s, l) => s + BigInt(l.inDim * l.outDim + 2 * l.outDim + 100), 0n);
        expect(mlpPrice(toModel(layers))).toBe(expected);
      }),
    );
    const big = { inDim: 1024, outDim: 1024, multiplier: 1, shift: 0, relu: true };
    const model: MlpModel = {
      layers: Array.from({ length: 16 }, () => ({
        ...big,
        weights: new Int8Array(0),
        bias: new Int32Array(0),
      })),
    };
    expect(mlpPrice(model)).toBe(16n * (1024n * 1024n + 2048n + 100n));
  });

  it("prices matmul and elementwise ops", () => {
    fc.assert(
      fc.property(fc.nat(1 << 20), fc.nat(1 << 20), fc.nat(1 << 20), (m, k, n) => {
        expect(matmulPrice(m, k, n)).toBe(BigInt(m) * BigInt(k) * BigInt(n));
        expect(elementwisePrice(m)).toBe(BigInt(m));
      }),
    );
    expect(matmulPrice(1 << 20, 1 << 20, 1 << 20)).toBe(1n << 60n);
  });

  describe("rejects malformed models", () => {
    const l = (inDim: number, outDim: number, extra: Partial<RefLayer> = {}): RefLayer => ({
      inDim,
      outDim,
      multiplier: 3,
      shift: 2,
      relu: true,
      weights: Array.from({ length: inDim * outDim }, (_, i) => (i % 7) - 3),
      bias: Array.from({ length: outDim }, (_, i) => i * 1000 - 500),
      ...extra,
    });
    const good = encodeMlpModel(toModel([l(4, 3), l(3, 2)]));

    it("accepts the well-formed baseline", () => {
      expect(parseMlpModel(good).layers.length).toBe(2);
    });

    it("truncated at every length", () => {
      for (let cut = 0; cut < good.length; cut++) {
        expect(aiCode(() => parseMlpModel(good.subarray(0, cut)))).toBe("AI_MODEL_MALFORMED");
      }
    });

    it("trailing bytes", () => {
      const longer = new Uint8Array(good.length + 1);
      longer.set(good);
      expect(aiCode(() => parseMlpModel(longer))).toBe("AI_MODEL_MALFORMED");
    });

    it("zero dims and oversized dims", () => {
      const zeroIn = { ...l(1, 2), inDim: 0, weights: [] };
      expect(aiCode(() => parseMlpModel(encodeMlpModel(toModel([zeroIn]))))).toBe("AI_MODEL_MALFORMED");
      const zeroOut = { ...l(2, 1), outDim: 0, weights: [], bias: [] };
      expect(aiCode(() => parseMlpModel(encodeMlpModel(toModel([zeroOut]))))).toBe("AI_MODEL_MALFORMED");
      const wide = { ...l(1, 1), inDim: 1025, weights: new Array(1025).fill(1) };
      expect(aiCode(() => parseMlpModel(encodeMlpModel(toModel([wide]))))).toBe("AI_MODEL_MALFORMED");
    });

    it("mismatched dims between layers", () => {
      expect(aiCode(() => parseMlpModel(encodeMlpModel(toModel([l(4, 3), l(2, 2)]))))).toBe("AI_DIMENSION_MISMATCH");
    });

    it("zero or too many layers", () => {
      expect(aiCode(() => parseMlpModel(Uint8Array.of(0)))).toBe("AI_MODEL_MALFORMED");
      const layers17 = Array.from({ length: 17 }, () => l(2, 2));
      expect(aiCode(() => parseMlpModel(encodeMlpModel(toModel(layers17))))).toBe("AI_MODEL_MALFORMED");
      const layers16 = Array.from({ length: 16 }, () => l(2, 2));
      expect(parseMlpModel(encodeMlpModel(toModel(layers16))).layers.length).toBe(16);
    });

    it("bad shift or relu flag", () => {
      expect(aiCode(() => parseMlpModel(encodeMlpModel(toModel([l(2, 2, { shift: 32 })]))))).toBe("AI_MODEL_MALFORMED");
      const bad = good.slice();
      bad[1 + 7] = 2; // layer 0 relu flag
      expect(aiCode(() => parseMlpModel(bad))).toBe("AI_MODEL_MALFORMED");
    });

    it("empty buffer", () => {
      expect(aiCode(() => parseMlpModel(new Uint8Array(0)))).toBe("AI_MODEL_MALFORMED");
    });

    it("forward rejects an input of the wrong length", () => {
      const model = parseMlpModel(good);
      expect(aiCode(() => mlpForward(model, new Int8Array(3)))).toBe("AI_DIMENSION_MISMATCH");
      expect(mlpForward(model, new Int8Array(4)).length).toBe(2);
    });
  });
});

describe("MLP model bytes", () => {
  it("follow docs/ai.md byte for byte: 1 + (8 + in*out + 4*out) per layer", () => {
    const bytes = encodeMlpModel({
      layers: [
        {
          inDim: 1,
          outDim: 1,
          multiplier: 0x0102,
          shift: 3,
          relu: true,
          weights: Int8Array.of(-2),
          bias: Int32Array.of(5),
        },
      ],
    });
    expect([...bytes]).toEqual([1, 1, 0, 1, 0, 0x02, 0x01, 3, 1, 0xfe, 5, 0, 0, 0]);
  });
});
