// Block headers by hash (Bucket.headers): the one owner of that record's key and encoding. The chain writes them in
// its import batches; consensus reads them (election seeds, ancestry) before the chain object exists.
import { type BlockHeader, decodeHeader, encodeHeader } from "@rustchain/shared";
import { Bucket, type KeyValueReader, type WriteBatch } from "../db/database.ts";

export class HeaderStore {
  constructor(private readonly db: KeyValueReader) {}

  async get(hash: Uint8Array): Promise<BlockHeader | undefined> {
    const enc = await this.db.get(Bucket.headers, hash);
    return enc ? decodeHeader(enc) : undefined;
  }

  put(batch: WriteBatch, hash: Uint8Array, header: BlockHeader): void {
    batch.put(Bucket.headers, hash, encodeHeader(header));
  }
}
