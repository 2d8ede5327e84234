// Our transaction codec agrees with viem's serializer and signer, and hostile bytes only ever produce typed errors.
import fc from "fast-check";
import { parseTransaction, recoverTransactionAddress, serializeTransaction, keccak256 as viemKeccak } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { ChainError, TxError } from "./errors.ts";
import { bytesToHex, hexToBytes } from "./hex.ts";
import { recoverAddress } from "./secp256k1.ts";
import {
  decodeTransaction,
  encodeTransaction,
  MAX_TX_SIZE,
  recoverTransaction,
  signingHash,
  signTransaction,
  type UnsignedTransaction,
} from "./transaction.ts";

const KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const account = privateKeyToAccount(KEY);

const txArb = fc.record({
  type: fc.constantFrom(0 as const, 1 as const, 2 as const),
  chainId: fc.constantFrom(1n, 21076n, 2n ** 40n),
  // viem takes nonces as JS numbers.
  nonce: fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }),
  tip: fc.bigInt({ min: 0n, max: 10n ** 12n }),
  extra: fc.bigInt({ min: 0n, max: 10n ** 12n }),
  gasLimit: fc.bigInt({ min: 21000n, max: 30_000_000n }),
  to: fc.option(fc.uint8Array({ minLength: 20, maxLength: 20 }), { nil: null }),
  value: fc.bigInt({ min: 0n, max: 2n ** 200n }),
  data: fc.uint8Array({ maxLength: 200 }),
  accessList: fc.array(
    fc.record({
      address: fc.uint8Array({ minLength: 20, maxLength: 20 }),
      storageKeys: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 3 }),
    }),
    { maxLength: 3 },
  ),
});

describe("transactions", () => {
  it("encoding, hash and sender match viem for random legacy, EIP-2930 and EIP-1559 transactions", async () => {
    await fc.assert(
      fc.asyncProperty(txArb, async (a) => {
        const tx: UnsignedTransaction = {
          type: a.type,
          chainId: a.chainId,
          nonce: a.nonce,
          maxPriorityFeePerGas: a.type === 2 ? a.tip : a.tip + a.extra,
          maxFeePerGas: a.tip + a.extra,
          gasLimit: a.gasLimit,
          to: a.to,
          value: a.value,
          data: a.data,
          accessList: a.type === 0 ? [] : a.accessList,
        };
        const ours = signTransaction(tx, hexToBytes(KEY));
        const common = {
          chainId: Number(a.chainId),
          nonce: Number(a.nonce),
          gas: a.gasLimit,
          to: a.to ? bytesToHex(a.to) : undefined,
          value: a.value,
          data: bytesToHex(a.data),
        };
        const accessList = tx.accessList.map((i) => ({
          address: bytesToHex(i.address),
          storageKeys: i.storageKeys.map(bytesToHex),
        }));
        const viemSigned =
          a.type === 2
            ? await account.signTransaction({
                ...common,
                type: "eip1559",
                maxFeePerGas: tx.maxFeePerGas,
                maxPriorityFeePerGas: tx.maxPriorityFeePerGas,
                accessList,
              })
            : a.type === 1
              ? await account.signTransaction({ ...common, type: "eip2930", gasPrice: tx.maxFeePerGas, accessList })
              : await account.signTransaction({ ...common, type: "legacy", gasPrice: tx.maxFeePerGas });
        expect(bytesToHex(ours.raw)).toBe(viemSigned);
        expect(bytesToHex(ours.hash)).toBe(viemKeccak(viemSigned));
        expect(bytesToHex(ours.from)).toBe(account.address.toLowerCase());
        expect((await recoverTransactionAddress({ serializedTransaction: viemSigned as never })).toLowerCase()).toBe(
          bytesToHex(ours.from),
        );
        // And viem parses what we produce.
        expect(serializeTransaction(parseTransaction(bytesToHex(ours.raw)))).toBeDefined();
      }),
      { numRuns: 150 },
    );
  });

  it("random and mutated bytes only ever fail with TxError or ChainError", () => {
    const valid = signTransaction(
      {
        type: 2,
        chainId: 21076n,
        nonce: 1n,
        maxPriorityFeePerGas: 1n,
        maxFeePerGas: 2n,
        gasLimit: 21000n,
        to: new Uint8Array(20),
        value: 5n,
        data: Uint8Array.of(1, 2),
        accessList: [],
      },
      hexToBytes(KEY),
    ).raw;
    const mutated = fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
      const copy = valid.slice();
      copy[i] = b;
      return copy;
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated), (bytes) => {
        try {
          recoverTransaction(bytes);
        } catch (e) {
          expect(e instanceof TxError || e instanceof ChainError, String(e)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("a transaction that decodes re-encodes to exactly its input, and recovers the signer of its fields", () => {
    // Mutations of valid legacy, EIP-2930 and EIP-1559 encodings: changed, inserted and deleted bytes (length forms,
    // integer leading zeros, list headers). Whatever decodes must be canonical, so one transaction has one hash.
    const encodings = ([0, 1, 2] as const).map((type) =>
      signTransaction(
        {
          type,
          chainId: 21076n,
          nonce: 1n,
          maxPriorityFeePerGas: 1n,
          maxFeePerGas: 2n,
          gasLimit: 21000n,
          to: new Uint8Array(20).fill(7),
          value: 5n,
          data: Uint8Array.from({ length: 60 }, (_, i) => i),
          accessList: type === 0 ? [] : [{ address: new Uint8Array(20).fill(1), storageKeys: [new Uint8Array(32)] }],
        },
        hexToBytes(KEY),
      ),
    );
    const edit = fc
      .tuple(
        fc.constantFrom(...encodings.map((e) => e.raw)),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom("set", "insert", "delete"),
      )
      .map(([raw, at, b, op]) => {
        const i = at % raw.length;
        if (op === "set") return Uint8Array.from(raw).fill(b, i, i + 1);
        if (op === "insert") return Uint8Array.from([...raw.subarray(0, i), b, ...raw.subarray(i)]);
        return Uint8Array.from([...raw.subarray(0, i), ...raw.subarray(i + 1)]);
      });
    let decoded = 0;
    fc.assert(
      fc.property(edit, (bytes) => {
        let stx: ReturnType<typeof recoverTransaction>;
        try {
          stx = recoverTransaction(bytes);
        } catch (e) {
          expect(e instanceof TxError || e instanceof ChainError, String(e)).toBe(true);
          return;
        }
        decoded++;
        expect(bytesToHex(encodeTransaction(stx.tx))).toBe(bytesToHex(bytes));
        // The signing hash taken from the encoding equals the one computed from the decoded fields.
        expect(bytesToHex(stx.from)).toBe(bytesToHex(recoverAddress(signingHash(stx.tx), stx.tx)));
      }),
      { numRuns: 5000 },
    );
    expect(decoded).toBeGreaterThan(100);
    for (const e of encodings) expect(bytesToHex(recoverTransaction(e.raw).from)).toBe(bytesToHex(e.from));
  });

  it("refuses oversized input before decoding", () => {
    expect(() => decodeTransaction(new Uint8Array(MAX_TX_SIZE + 1))).toThrow(TxError);
  });
});
