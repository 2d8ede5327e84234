// World state: accounts and storage in BLAKE3 Merkle Patricia tries stored in RocksDB, with a flat key-value view of
// the head for fast reads. Execution works on an overlay (WorldState); the tries are updated and hashed once per
// block in commit(), over the dirty accounts and slots only.
import {
  BLAKE3_EMPTY,
  bigintToBytes32,
  blake3,
  bytesToBigint,
  bytesToHex,
  concatBytes,
  MerklePatriciaTrie,
  rlpEncode,
  StateError,
  type TrieNodeReader,
} from "@rustchain/shared";
import { decodeStorageWord } from "@rustchain/shared/account";
import { Bucket, type Database, WriteBatch } from "../db/database.ts";
import {
  type Account,
  decodeAccount,
  EMPTY_TRIE_ROOT,
  emptyAccount,
  encodeAccount,
  isEmptyAccount,
} from "./account.ts";

export interface StateDbOptions {
  /** Trie nodes kept decoded-ready in memory (encodings), so consecutive blocks rarely touch disk for the trie. */
  nodeCacheSize: number;
  /** Head accounts kept in memory in front of the flat view (mempool checks and execution read them constantly). */
  accountCacheSize: number;
}
export const defaultStateDbOptions: StateDbOptions = { nodeCacheSize: 1_000_000, accountCacheSize: 500_000 };

const META_PREIMAGES = new TextEncoder().encode("preimages-v1");

const hexSlice = Buffer.prototype.hexSlice as (this: Uint8Array, start: number, end: number) => string;
/** Map key of bytes: hex, straight from the Uint8Array (no Buffer wrapper: half the time on execution's hot path). */
const hexKey = (b: Uint8Array) => hexSlice.call(b, 0, b.length);

export class StateDb {
  private readonly nodeCache = new Map<string, Uint8Array>();
  private readonly accountCache = new Map<string, Account | null>();
  /** Bumped on every head change, so a read that raced with a commit does not cache a stale account. */
  private headGeneration = 0;
  /** A head change is being written: the flat view is between two heads. */
  private headChanging = false;
  readonly reader: TrieNodeReader;

  constructor(
    private readonly opts: StateDbOptions,
    private readonly modules: { db: Database },
  ) {
    this.reader = {
      getNode: (hash) => {
        const cached = this.nodeCache.get(hexKey(hash));
        if (cached) return cached;
        return this.modules.db.get(Bucket.stateNodes, hash).then((enc) => {
          // A node the trie needs and the database lacks: a pruned state, or a damaged database.
          if (!enc) throw new StateError({ code: "STATE_NODE_MISSING", hash: bytesToHex(hash) });
          this.cacheNode(hash, enc);
          return enc;
        });
      },
    };
  }

  private cacheNode(hash: Uint8Array, enc: Uint8Array): void {
    boundedSet(this.nodeCache, hexKey(hash), enc, this.opts.nodeCacheSize);
  }

  accountTrie(root: Uint8Array): MerklePatriciaTrie {
    return new MerklePatriciaTrie({ hash: blake3, root, reader: this.reader });
  }

  /** Account at a given state root, read through the trie (historical queries and proofs). */
  async accountAt(root: Uint8Array, address: Uint8Array): Promise<Account> {
    const enc = await this.accountTrie(root).get(blake3(address));
    return enc ? decodeAccount(enc) : emptyAccount();
  }

  async storageAt(root: Uint8Array, address: Uint8Array, slot: Uint8Array): Promise<Uint8Array> {
    const account = await this.accountAt(root, address);
    if (Buffer.compare(account.storageRoot, EMPTY_TRIE_ROOT) === 0) return new Uint8Array(32);
    const enc = await this.accountTrie(account.storageRoot).get(blake3(slot));
    return enc ? decodeStorageValue(enc) : new Uint8Array(32);
  }

  /** Identifies the flat view's current head; undefined while a head change is being written. */
  get headVersion(): number | undefined {
    return this.headChanging ? undefined : this.headGeneration;
  }

  /** The chain is about to write a head change; onHeadCommitted or onReorg ends it. */
  beginHeadChange(): void {
    this.headChanging = true;
    this.headGeneration++;
  }

  /** Head account from the flat view. */
  async headAccount(address: Uint8Array): Promise<Account> {
    const k = hexKey(address);
    const cached = this.accountCache.get(k);
    if (cached !== undefined) return cached ? { ...cached } : emptyAccount();
    const generation = this.headGeneration;
    const enc = await this.modules.db.get(Bucket.flatAccounts, address);
    const account = enc ? decodeAccount(enc) : null;
    if (!this.headChanging && generation === this.headGeneration) {
      boundedSet(this.accountCache, k, account, this.opts.accountCacheSize);
    }
    return account ? { ...account } : emptyAccount();
  }

  /** A block's writes reached the database: the head moved, and these accounts changed (null = deleted). */
  onHeadCommitted(accounts: [Uint8Array, Account | null][]): void {
    this.headChanging = false;
    this.headGeneration++;
    for (const [address, account] of accounts) {
      boundedSet(this.accountCache, hexKey(address), account ? { ...account } : null, this.opts.accountCacheSize);
    }
  }

  /** The head moved to another branch: every cached head account may be stale. */
  onReorg(): void {
    this.headChanging = false;
    this.headGeneration++;
    this.accountCache.clear();
  }

  async headStorage(address: Uint8Array, slot: Uint8Array): Promise<Uint8Array> {
    const v = await this.modules.db.get(Bucket.flatStorage, concatBytes(address, slot));
    return v ?? new Uint8Array(32);
  }

  /** headStorage read on the calling thread (Database.getSync): contract execution waits for each slot anyway. */
  headStorageSync(address: Uint8Array, slot: Uint8Array): Uint8Array {
    return this.modules.db.getSync(Bucket.flatStorage, concatBytes(address, slot)) ?? new Uint8Array(32);
  }

  /** headAccount read on the calling thread (Database.getSync). */
  headAccountSync(address: Uint8Array): Account {
    const k = hexKey(address);
    const cached = this.accountCache.get(k);
    if (cached !== undefined) return cached ? { ...cached } : emptyAccount();
    const enc = this.modules.db.getSync(Bucket.flatAccounts, address);
    const account = enc ? decodeAccount(enc) : null;
    if (!this.headChanging) boundedSet(this.accountCache, k, account, this.opts.accountCacheSize);
    return account ? { ...account } : emptyAccount();
  }

  getCode(codeHash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.modules.db.get(Bucket.code, codeHash);
  }

  async proof(root: Uint8Array, address: Uint8Array, slots: Uint8Array[]) {
    const trie = this.accountTrie(root);
    const accountProof = await trie.createProof(blake3(address));
    const account = await this.accountAt(root, address);
    const storageTrie = this.accountTrie(account.storageRoot);
    const storageProof = [];
    for (const slot of slots) {
      const enc = await storageTrie.get(blake3(slot));
      storageProof.push({
        key: slot,
        value: enc ? bytesToBigint(decodeStorageValue(enc)) : 0n,
        proof: await storageTrie.createProof(blake3(slot)),
      });
    }
    return { account, accountProof, storageProof };
  }

  /**
   * An overlay for executing one block on top of `root`. When `root` is the head's root the flat view serves reads;
   * otherwise reads go through the trie.
   */
  overlay(root: Uint8Array, isHead: boolean): WorldState {
    return new WorldState(this, root, isHead);
  }

  /**
   * Datadirs from before preimages were recorded: fill them in once from the flat view (the head's keys; a key that
   * only older roots hold has no preimage, and an export at such a root says so).
   */
  async ensurePreimages(): Promise<number> {
    const { db } = this.modules;
    if (await db.get(Bucket.meta, META_PREIMAGES)) return 0;
    let written = 0;
    let batch = new WriteBatch();
    const flush = async () => {
      await db.write(batch);
      batch = new WriteBatch();
    };
    for await (const [address] of db.range(Bucket.flatAccounts)) {
      batch.put(Bucket.preimages, blake3(address), address);
      if (++written % 10_000 === 0) await flush();
    }
    for await (const [key] of db.range(Bucket.flatStorage)) {
      const slot = key.subarray(20);
      batch.put(Bucket.preimages, blake3(slot), slot);
      if (++written % 10_000 === 0) await flush();
    }
    batch.put(Bucket.meta, META_PREIMAGES, Uint8Array.of(1));
    await flush();
    return written;
  }

  /** A datadir filled by warp sync has every preimage already (chunks carry them): no back-fill needed. */
  static markPreimagesRecorded(batch: WriteBatch): void {
    batch.put(Bucket.meta, META_PREIMAGES, Uint8Array.of(1));
  }

  /** Record nodes written by a commit so the next block finds them in memory. */
  rememberNodes(nodes: [Uint8Array, Uint8Array][]): void {
    for (const [h, enc] of nodes) this.cacheNode(h, enc);
  }
}

/** Insert into a Map used as a cache, dropping the oldest tenth when it is full (Map keeps insertion order). */
function boundedSet<V>(map: Map<string, V>, key: string, value: V, limit: number): void {
  if (!map.has(key) && map.size >= limit) {
    let n = Math.ceil(limit / 10);
    for (const k of map.keys()) {
      map.delete(k);
      if (--n === 0) break;
    }
  }
  map.set(key, value);
}

export function encodeStorageValue(v: Uint8Array): Uint8Array {
  return rlpEncode(bytesToBigint(v));
}

function decodeStorageValue(enc: Uint8Array): Uint8Array {
  return bigintToBytes32(decodeStorageWord(enc));
}

/** One key of the flat head view changed by a block: null is absent (a deleted account, a zero slot). */
export interface FlatChange {
  bucket: typeof Bucket.flatAccounts | typeof Bucket.flatStorage;
  key: Uint8Array;
  before: Uint8Array | null;
  after: Uint8Array | null;
}

interface DirtyAccount {
  account: Account;
  storage: Map<string, { slot: Uint8Array; value: Uint8Array }>;
}

/** Journaled overlay of account changes during block execution. */
export class WorldState {
  private readonly accounts = new Map<string, DirtyAccount>();
  private readonly addresses = new Map<string, Uint8Array>();
  private journal: (() => void)[] = [];
  /** Committed (pre-block) slot values read so far: address hex → slot hex → value. */
  private readonly storageReads = new Map<string, Map<string, Uint8Array>>();
  /** Code deployed in this overlay: code hash hex → code. */
  private readonly newCode = new Map<string, Uint8Array>();
  /** Final account values written by commit(), for the head cache once the batch is on disk. */
  readonly accountUpdates: [Uint8Array, Account | null][] = [];
  /** Flat-view changes made by commit(), with the values before, so the chain can apply and undo a block. */
  readonly flatDiff: FlatChange[] = [];

  /** The head version the flat view had when this overlay was opened on the head (undefined: trie reads only). */
  private readonly headVersion: number | undefined;

  constructor(
    private readonly state: StateDb,
    readonly baseRoot: Uint8Array,
    isHead: boolean,
  ) {
    this.headVersion = isHead ? state.headVersion : undefined;
  }

  /** Whether the flat view still holds this overlay's base state (the head has not moved since it was opened). */
  private flatIsBase(): boolean {
    return this.headVersion !== undefined && this.state.headVersion === this.headVersion;
  }

  async getAccount(address: Uint8Array): Promise<Account> {
    return this.accountNow(address) ?? this.baseAccount(address);
  }

  /**
   * The account without waiting, when that is possible: from the overlay, or read synchronously from the flat view
   * when it holds the base state. Undefined when only a trie read can answer (use getAccount).
   */
  accountNow(address: Uint8Array): Account | undefined {
    const dirty = this.accounts.get(hexKey(address));
    if (dirty) return { ...dirty.account };
    return this.flatIsBase() ? this.state.headAccountSync(address) : undefined;
  }

  /** The account as of the overlay's base state, ignoring changes made in the overlay. */
  private async baseAccount(address: Uint8Array): Promise<Account> {
    if (this.flatIsBase()) {
      const account = await this.state.headAccount(address);
      // A read that overlapped a head change may have seen the new head: read the base through the trie instead.
      if (this.flatIsBase()) return account;
    }
    return this.state.accountAt(this.baseRoot, address);
  }

  setAccount(address: Uint8Array, account: Account): void {
    const k = hexKey(address);
    const prev = this.accounts.get(k);
    if (prev) {
      const before = prev.account;
      this.journal.push(() => {
        prev.account = before;
      });
      prev.account = { ...account };
    } else {
      this.accounts.set(k, { account: { ...account }, storage: new Map() });
      this.addresses.set(k, address);
      this.journal.push(() => {
        this.accounts.delete(k);
        this.addresses.delete(k);
      });
    }
  }

  /**
   * The slot's current value without waiting, when that is possible: from the overlay, or read synchronously from
   * the flat view when it holds the base state. Undefined when only a trie read can answer (use getStorage). Lets
   * the contract runtime answer without suspending the contract.
   */
  storageNow(address: Uint8Array, slot: Uint8Array): Uint8Array | undefined {
    const a = hexKey(address);
    const s = hexKey(slot);
    const dirty = this.accounts.get(a)?.storage.get(s);
    if (dirty) return dirty.value;
    return this.committedStorageNow(address, slot, a, s);
  }

  /** Current value of a storage slot (32 bytes; zero if unset). */
  async getStorage(address: Uint8Array, slot: Uint8Array): Promise<Uint8Array> {
    return this.storageNow(address, slot) ?? this.committedStorage(address, slot);
  }

  /** The slot's value before this overlay changed it (for pricing writes). */
  async committedStorage(address: Uint8Array, slot: Uint8Array): Promise<Uint8Array> {
    const a = hexKey(address);
    const s = hexKey(slot);
    const now = this.committedStorageNow(address, slot, a, s);
    if (now !== undefined) return now;
    const value = await this.state.storageAt(this.baseRoot, address, slot);
    this.rememberRead(a, s, value);
    return value;
  }

  /** committedStorage without waiting (read before, or read synchronously from the flat view), else undefined. */
  private committedStorageNow(address: Uint8Array, slot: Uint8Array, a: string, s: string): Uint8Array | undefined {
    const cached = this.storageReads.get(a)?.get(s);
    if (cached) return cached;
    if (!this.flatIsBase()) return undefined;
    const value = this.state.headStorageSync(address, slot);
    this.rememberRead(a, s, value);
    return value;
  }

  private rememberRead(a: string, s: string, value: Uint8Array): void {
    let reads = this.storageReads.get(a);
    if (reads === undefined) {
      reads = new Map();
      this.storageReads.set(a, reads);
    }
    reads.set(s, value);
  }

  async setStorage(address: Uint8Array, slot: Uint8Array, value: Uint8Array): Promise<void> {
    if (this.trySetStorage(address, slot, value)) return;
    this.setAccount(address, await this.getAccount(address));
    this.trySetStorage(address, slot, value);
  }

  /** setStorage without waiting: false (and nothing done) when the account needs a trie read first (use setStorage). */
  trySetStorage(address: Uint8Array, slot: Uint8Array, value: Uint8Array): boolean {
    const k = hexKey(address);
    if (!this.accounts.has(k)) {
      const account = this.accountNow(address);
      if (account === undefined) return false;
      this.setAccount(address, account);
    }
    const storage = (this.accounts.get(k) as DirtyAccount).storage;
    const sk = hexKey(slot);
    const prev = storage.get(sk);
    storage.set(sk, { slot, value: value.slice() });
    this.journal.push(() => {
      if (prev) storage.set(sk, prev);
      else storage.delete(sk);
    });
    return true;
  }

  async getCode(address: Uint8Array): Promise<Uint8Array> {
    const account = await this.getAccount(address);
    if (Buffer.compare(account.codeHash, BLAKE3_EMPTY) === 0) return new Uint8Array(0);
    return (
      this.newCode.get(hexKey(account.codeHash)) ?? (await this.state.getCode(account.codeHash)) ?? new Uint8Array(0)
    );
  }

  /** Install code on an account (contract creation). */
  async setCode(address: Uint8Array, code: Uint8Array): Promise<Uint8Array> {
    const codeHash = blake3(code);
    this.newCode.set(hexKey(codeHash), code);
    const account = await this.getAccount(address);
    account.codeHash = codeHash;
    this.setAccount(address, account);
    return codeHash;
  }

  checkpoint(): number {
    return this.journal.length;
  }

  revert(checkpoint: number): void {
    while (this.journal.length > checkpoint) this.journal.pop()?.();
  }

  /** Apply the dirty accounts to the tries; writes nodes and the flat view into the batch and returns the root. */
  async commit(batch: WriteBatch, writeFlat: boolean): Promise<Uint8Array> {
    const trie = this.state.accountTrie(this.baseRoot);
    const allNodes: [Uint8Array, Uint8Array][] = [];
    for (const [k, dirty] of this.accounts) {
      const address = this.addresses.get(k) as Uint8Array;
      const account = dirty.account;
      if (dirty.storage.size > 0) {
        const storageTrie = this.state.accountTrie(account.storageRoot);
        for (const { slot, value } of dirty.storage.values()) {
          const isZero = value.every((b) => b === 0);
          const before = await this.committedStorage(address, slot);
          this.flatDiff.push({
            bucket: Bucket.flatStorage,
            key: concatBytes(address, slot),
            before: before.every((b) => b === 0) ? null : before,
            after: isZero ? null : value,
          });
          const slotKey = blake3(slot);
          await storageTrie.put(slotKey, isZero ? new Uint8Array(0) : encodeStorageValue(value));
          // A new key's preimage, so a snapshot of any later root can name the slot (trie keys are hashes).
          if (!isZero && before.every((b) => b === 0)) batch.put(Bucket.preimages, slotKey, slot);
          if (writeFlat) {
            if (isZero) batch.del(Bucket.flatStorage, concatBytes(address, slot));
            else batch.put(Bucket.flatStorage, concatBytes(address, slot), value);
          }
        }
        const c = storageTrie.commit();
        account.storageRoot = c.root;
        for (const n of c.nodes) allNodes.push(n);
      }
      const prior = await this.baseAccount(address);
      const before = isEmptyAccount(prior) ? null : encodeAccount(prior);
      const accountKey = blake3(address);
      if (isEmptyAccount(account)) {
        // EIP-161: touched empty accounts are removed.
        this.flatDiff.push({ bucket: Bucket.flatAccounts, key: address, before, after: null });
        await trie.del(accountKey);
        if (writeFlat) batch.del(Bucket.flatAccounts, address);
        this.accountUpdates.push([address, null]);
      } else {
        const enc = encodeAccount(account);
        this.flatDiff.push({ bucket: Bucket.flatAccounts, key: address, before, after: enc });
        await trie.put(accountKey, enc);
        if (before === null) batch.put(Bucket.preimages, accountKey, address);
        if (writeFlat) batch.put(Bucket.flatAccounts, address, enc);
        this.accountUpdates.push([address, account]);
      }
    }
    const c = trie.commit();
    // Not push(...nodes): a large genesis or block commits more nodes than a call has argument slots.
    for (const n of c.nodes) allNodes.push(n);
    for (const [h, enc] of allNodes) batch.put(Bucket.stateNodes, h, enc);
    for (const [h, code] of this.newCode) batch.put(Bucket.code, Buffer.from(h, "hex"), code);
    this.state.rememberNodes(allNodes);
    this.journal = [];
    return c.root;
  }

  /** Addresses touched in this overlay (for the state diff the edge consumes later). */
  touched(): Uint8Array[] {
    return [...this.addresses.values()];
  }
}
