// The C counter example (contracts/examples/counter.c) on an in-process chain through viem: the repository's own
// contract tests, written as a project's are (validator/src/testing/contractTesting.ts). `npm run contracts:test`
// runs contracts/test/*.test.ts after building every contract; npm test runs them with the rest.
import { type Abi, type BaseError, ContractFunctionRevertedError, maxUint256, parseEventLogs } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestChain, type TestChain } from "../../validator/src/testing/contractTesting.ts";
import { BUILD_DIR, buildContracts } from "../build.ts";

let chain: TestChain;
let abi: Abi;

beforeAll(async () => {
  abi = (await buildContracts({ only: ["counter"] })).counter!.abi;
  chain = await startTestChain({ buildDir: BUILD_DIR });
});

afterAll(async () => {
  await chain?.stop();
});

describe("counter (C)", () => {
  it("counts increments and additions, each emitting Incremented(newValue)", async () => {
    const address = await chain.deploy("counter");
    expect(await chain.publicClient.readContract({ address, abi, functionName: "count" })).toBe(0n);
    const increment = await chain.walletClient.writeContract({ address, abi, functionName: "increment" });
    await chain.publicClient.waitForTransactionReceipt({ hash: increment });
    const add = await chain.walletClient.writeContract({ address, abi, functionName: "add", args: [41n] });
    const receipt = await chain.publicClient.waitForTransactionReceipt({ hash: add });
    const events = parseEventLogs({ abi, logs: receipt.logs, eventName: "Incremented" });
    expect(events.map((e) => (e.args as { newValue: bigint }).newValue)).toEqual([42n]);
    expect(await chain.publicClient.readContract({ address, abi, functionName: "count" })).toBe(42n);
  });

  it("reverts with Panic(0x11) when the count would overflow", async () => {
    const address = await chain.deploy("counter");
    const hash = await chain.walletClient.writeContract({ address, abi, functionName: "add", args: [maxUint256] });
    await chain.publicClient.waitForTransactionReceipt({ hash });
    const account = chain.accounts[0];
    const overflow = chain.publicClient.simulateContract({ address, abi, functionName: "add", args: [1n], account });
    const error = await overflow.then(
      () => undefined,
      (e: BaseError) => e.walk((c) => c instanceof ContractFunctionRevertedError),
    );
    expect((error as ContractFunctionRevertedError | undefined)?.data?.errorName).toBe("Panic");
    expect((error as ContractFunctionRevertedError).data?.args).toEqual([0x11n]);
  });

  it("names the missing artefact when asked to deploy a contract that was not built", async () => {
    await expect(chain.deploy("no_such_contract")).rejects.toMatchObject({
      type: { code: "CONTRACT_ARTEFACT_MISSING", name: "no_such_contract" },
    });
  });
});
