// The Rust ERC-721 (contracts/rust/examples/erc721_rs.rs) on a devnet, driven by viem with its standard erc721Abi as
// a wallet or marketplace would: owner-only mint, transfers, approvals, operators, ERC-165 and ipfs:// token URIs.

import { join } from "node:path";
import {
  type Abi,
  createPublicClient,
  createWalletClient,
  erc721Abi,
  getAddress,
  type Hex,
  http,
  parseAbi,
  parseEventLogs,
  type TransactionReceipt,
  toHex,
  zeroAddress,
} from "viem";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILD_DIR, buildContracts, CONTRACTS_DIR, compileContract, toArtefact } from "../contracts/build.ts";
import { DEV_KEYS, type Devnet, devnetChain, startDevnet } from "./support/devnet.ts";

const CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
const BIG_ID = 2n ** 200n + 12345n;

let devnet: Devnet;
let nft: { abi: Abi; bytecode: Hex };
let token: Hex;
const [deployer, alice, bob, carol] = DEV_KEYS.slice(0, 4).map((k) => privateKeyToAccount(k)) as [
  PrivateKeyAccount,
  PrivateKeyAccount,
  PrivateKeyAccount,
  PrivateKeyAccount,
];

const client = () => createPublicClient({ chain: devnetChain, transport: http(devnet.url) });
const wallet = (account: PrivateKeyAccount) =>
  createWalletClient({ account, chain: devnetChain, transport: http(devnet.url) });
const read = <T>(functionName: string, args: unknown[] = []) =>
  client().readContract({ address: token, abi: erc721Abi, functionName, args } as never) as Promise<T>;

async function send(
  account: PrivateKeyAccount,
  functionName: string,
  args: unknown[],
  abi: Abi = erc721Abi,
): Promise<TransactionReceipt> {
  const hash = await wallet(account).writeContract({ address: token, abi, functionName, args } as never);
  const receipt = await client().waitForTransactionReceipt({ hash, pollingInterval: 100 });
  expect(receipt.status).toBe("success");
  return receipt;
}

/** The revert reason a call would meet, through eth_call as viem's simulateContract reports it. */
async function reason(account: PrivateKeyAccount, functionName: string, args: unknown[], abi: Abi = erc721Abi) {
  const call = client().simulateContract({ address: token, abi, functionName, args, account } as never);
  return call.then(
    () => "no revert",
    (e: Error) => e.message,
  );
}

beforeAll(async () => {
  nft = (await buildContracts({ only: ["erc721_rs"] })).erc721_rs!;
  devnet = await startDevnet({ slotMs: 500 });
  const hash = await wallet(deployer).deployContract({
    abi: nft.abi,
    bytecode: nft.bytecode,
    args: ["Rust Apes", "RAPE", CID],
  });
  const receipt = await client().waitForTransactionReceipt({ hash, pollingInterval: 100 });
  expect(receipt.status).toBe("success");
  token = receipt.contractAddress as Hex;
});

afterAll(async () => {
  await devnet?.stop();
  await devnet?.cleanup();
});

describe("ERC-721 in Rust with viem", () => {
  it("reports name, symbol, owner and the ERC-165 interfaces of ERC-721 and its metadata", async () => {
    expect(await read("name")).toBe("Rust Apes");
    expect(await read("symbol")).toBe("RAPE");
    expect(await client().readContract({ address: token, abi: nft.abi, functionName: "owner" })).toBe(deployer.address);
    for (const id of ["0x01ffc9a7", "0x80ac58cd", "0x5b5e139f"] as const) {
      expect(await read("supportsInterface", [id])).toBe(true);
    }
    expect(await read("supportsInterface", ["0xffffffff"])).toBe(false);
    expect(await read("supportsInterface", ["0x780e9d63"])).toBe(false); // no enumerable extension
  });

  it("mints (owner only) with a Transfer from the zero address; tokenURI is ipfs://<CID>/<id>", async () => {
    const receipt = await send(deployer, "mint", [alice.address, 1n], nft.abi);
    const [mint] = parseEventLogs({ abi: erc721Abi, logs: receipt.logs, eventName: "Transfer" });
    expect(mint?.args).toEqual({ from: zeroAddress, to: alice.address, tokenId: 1n });
    await send(deployer, "mint", [alice.address, BIG_ID], nft.abi);
    expect(await read("ownerOf", [1n])).toBe(alice.address);
    expect(await read("balanceOf", [alice.address])).toBe(2n);
    expect(await read("tokenURI", [1n])).toBe(`ipfs://${CID}/1`);
    expect(await read("tokenURI", [BIG_ID])).toBe(`ipfs://${CID}/${BIG_ID}`);

    expect(await reason(alice, "mint", [alice.address, 2n], nft.abi)).toMatch(/Ownable: caller is not the owner/);
    expect(await reason(deployer, "mint", [bob.address, 1n], nft.abi)).toMatch(/ERC721: token already minted/);
    expect(await reason(deployer, "mint", [zeroAddress, 2n], nft.abi)).toMatch(/ERC721: mint to the zero address/);
    await expect(read("tokenURI", [2n])).rejects.toThrow(/ERC721: invalid token ID/);
    await expect(read("ownerOf", [2n])).rejects.toThrow(/ERC721: invalid token ID/);
    await expect(read("balanceOf", [zeroAddress])).rejects.toThrow(/ERC721: address zero is not a valid owner/);
  });

  it("approve lets one account transfer a token once; the approval is cleared by the transfer", async () => {
    expect(await reason(bob, "transferFrom", [alice.address, bob.address, 1n])).toMatch(
      /ERC721: caller is not token owner or approved/,
    );
    expect(await reason(bob, "approve", [bob.address, 1n])).toMatch(
      /ERC721: approve caller is not token owner or approved for all/,
    );
    expect(await reason(alice, "approve", [alice.address, 1n])).toMatch(/ERC721: approval to current owner/);

    const approval = await send(alice, "approve", [bob.address, 1n]);
    expect(parseEventLogs({ abi: erc721Abi, logs: approval.logs }).map((l) => [l.eventName, l.args])).toEqual([
      ["Approval", { owner: alice.address, spender: bob.address, tokenId: 1n }], // viem names it spender
    ]);
    expect(await read("getApproved", [1n])).toBe(bob.address);
    expect(await reason(bob, "transferFrom", [carol.address, bob.address, 1n])).toMatch(
      /ERC721: transfer from incorrect owner/,
    );

    const transfer = await send(bob, "transferFrom", [alice.address, bob.address, 1n]);
    const logs = await client().getContractEvents({
      address: token,
      abi: erc721Abi,
      eventName: "Transfer",
      fromBlock: transfer.blockNumber,
      toBlock: transfer.blockNumber,
    });
    expect(logs.map((l) => l.args)).toEqual([{ from: alice.address, to: bob.address, tokenId: 1n }]);
    expect(await read("ownerOf", [1n])).toBe(bob.address);
    expect(await read("getApproved", [1n])).toBe(zeroAddress);
    expect(await read("balanceOf", [alice.address])).toBe(1n);
    expect(await read("balanceOf", [bob.address])).toBe(1n);
  });

  it("an operator approved for all transfers with safeTransferFrom; a contract recipient must accept", async () => {
    expect(await reason(bob, "setApprovalForAll", [bob.address, true])).toMatch(/ERC721: approve to caller/);
    const set = await send(bob, "setApprovalForAll", [carol.address, true]);
    expect(parseEventLogs({ abi: erc721Abi, logs: set.logs }).map((l) => [l.eventName, l.args])).toEqual([
      ["ApprovalForAll", { owner: bob.address, operator: carol.address, approved: true }],
    ]);
    expect(await read("isApprovedForAll", [bob.address, carol.address])).toBe(true);

    // A recipient with code that does not answer onERC721Received (the token itself) is refused...
    expect(await reason(carol, "safeTransferFrom", [bob.address, token, 1n])).toMatch(
      /ERC721: transfer to non ERC721Receiver implementer/,
    );
    // ...an account without code is not asked.
    await send(carol, "safeTransferFrom", [bob.address, alice.address, 1n, "0xc0ffee"]);
    expect(await read("ownerOf", [1n])).toBe(alice.address);

    await send(bob, "setApprovalForAll", [carol.address, false]);
    expect(await read("isApprovedForAll", [bob.address, carol.address])).toBe(false);
    expect(await reason(carol, "transferFrom", [alice.address, carol.address, 1n])).toMatch(
      /ERC721: caller is not token owner or approved/,
    );
  });

  it("safeTransferFrom calls a contract recipient's onERC721Received with operator, from, id and data", async () => {
    // contracts/rust/test/erc721_receiver.rs: accepts and records, refuses token 13 with a reason.
    const receiverAbi = parseAbi([
      "function onERC721Received(address operator, address from, uint256 tokenId, bytes data) returns (bytes4)",
      "event Received(address indexed operator, address indexed from, uint256 indexed tokenId, bytes data)",
    ]);
    const module = await compileContract(join(CONTRACTS_DIR, "rust", "test", "erc721_receiver.rs"), {
      abi: receiverAbi,
      outDir: join(BUILD_DIR, "test"),
    });
    const deployed = await client().waitForTransactionReceipt({
      hash: await wallet(deployer).deployContract({ abi: receiverAbi, bytecode: toHex(toArtefact(module)) }),
      pollingInterval: 100,
    });
    const receiver = getAddress(deployed.contractAddress!);

    const receipt = await send(alice, "safeTransferFrom", [alice.address, receiver, 1n, "0xdecaf0"]);
    expect(await read("ownerOf", [1n])).toBe(receiver);
    expect(parseEventLogs({ abi: receiverAbi, logs: receipt.logs, eventName: "Received" }).map((l) => l.args)).toEqual([
      { operator: alice.address, from: alice.address, tokenId: 1n, data: "0xdecaf0" },
    ]);
    // The recipient's own reason comes back through safeTransferFrom.
    await send(deployer, "mint", [alice.address, 13n], nft.abi);
    expect(await reason(alice, "safeTransferFrom", [alice.address, receiver, 13n])).toMatch(/Receiver: not token 13/);
    expect(await read("ownerOf", [13n])).toBe(alice.address);
  });
});
