/**
 * A plain Uint8Array view of bytes that libp2p hands us as Node Buffers (protobuf and socket reads), so consumers
 * and deep equality see one type. No copy.
 */
export function plainBytes(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
