// The same ERC-20 in C (contracts/examples/erc20.c) and in Rust (contracts/rust/examples/erc20_rs.rs) on a devnet:
// module size and the gas of deploy, transfer, approve and transferFrom, from the receipts. Both run the same
// sequence from the same accounts, so the storage they touch is the same (new slots on the first transfer and
// approve, then changed ones).
//
// Usage: npm run bench:contracts (tsx bench/contractLanguages.ts)
// Last line: `erc20 c_bytes=… rust_bytes=… c_deploy=… rust_deploy=… … ratio_deploy=…`
import {
  createPublicClient,
  createWalletClient,
  erc20Abi,
  type Hex,
  http,
  type PublicClient,
  parseEther,
  type TransactionReceipt,
} from "viem";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { buildContracts } from "../contracts/build.ts";
import { DEV_KEYS, devnetChain, startDevnet } from "../tests/support/devnet.ts";

const CONTRACTS = { c: "erc20", rust: "erc20_rs" } as const;
const OPERATIONS = ["deploy", "transfer", "approve", "transferFrom", "transfer (warm)"] as const;

const built = await buildContracts({ only: Object.values(CONTRACTS) });
const devnet = await startDevnet({ slotMs: 500 });
try {
  const client = createPublicClient({ chain: devnetChain, transport: http(devnet.url) }) as PublicClient;
  const [owner, spender, recipient] = DEV_KEYS.slice(0, 3).map((k) => privateKeyToAccount(k)) as PrivateKeyAccount[];
  const wallet = (account: PrivateKeyAccount) =>
    createWalletClient({ account, chain: devnetChain, transport: http(devnet.url) });
  const gasOf = async (hash: Hex): Promise<TransactionReceipt> => {
    const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    if (receipt.status !== "success") throw new Error(`transaction ${hash} failed`);
    return receipt;
  };

  const gas: Record<string, Record<(typeof OPERATIONS)[number], bigint>> = {};
  for (const [language, name] of Object.entries(CONTRACTS)) {
    const c = built[name]!;
    const deployed = await gasOf(
      await wallet(owner).deployContract({
        abi: c.abi,
        bytecode: c.bytecode,
        args: ["Bench Token", "BENCH", 18, parseEther("1000000")],
      }),
    );
    const token = deployed.contractAddress!;
    const write = async (account: PrivateKeyAccount, functionName: string, args: unknown[]) =>
      (await gasOf(await wallet(account).writeContract({ address: token, abi: erc20Abi, functionName, args } as never)))
        .gasUsed;
    gas[language] = {
      deploy: deployed.gasUsed,
      transfer: await write(owner, "transfer", [recipient.address, 1000n]),
      approve: await write(owner, "approve", [spender.address, 5000n]),
      transferFrom: await write(spender, "transferFrom", [owner.address, recipient.address, 2000n]),
      "transfer (warm)": await write(owner, "transfer", [recipient.address, 1000n]),
    };
  }

  const bytes = Object.fromEntries(Object.entries(CONTRACTS).map(([l, n]) => [l, built[n]!.module.length]));
  const rows = [
    ["", "C", "Rust", "Rust / C"],
    ["module bytes", String(bytes.c), String(bytes.rust), (bytes.rust! / bytes.c!).toFixed(2)],
    ...OPERATIONS.map((op) => [
      `${op} gas`,
      String(gas.c![op]),
      String(gas.rust![op]),
      (Number(gas.rust![op]) / Number(gas.c![op])).toFixed(2),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    console.log(r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  "));
  const key = (op: string) => op.replace(/ \(warm\)/, "_warm");
  console.log(
    [
      "erc20",
      `c_bytes=${bytes.c}`,
      `rust_bytes=${bytes.rust}`,
      ...OPERATIONS.flatMap((op) => [`c_${key(op)}=${gas.c![op]}`, `rust_${key(op)}=${gas.rust![op]}`]),
      `ratio_bytes=${(bytes.rust! / bytes.c!).toFixed(2)}`,
      `ratio_deploy=${(Number(gas.rust!.deploy) / Number(gas.c!.deploy)).toFixed(2)}`,
      `ratio_transfer=${(Number(gas.rust!.transfer) / Number(gas.c!.transfer)).toFixed(2)}`,
    ].join(" "),
  );
} finally {
  await devnet.stop();
  await devnet.cleanup();
}
