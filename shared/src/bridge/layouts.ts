// The Wormhole SDK's binary layouts (sdk-definitions), made chain-agnostic. The SDK converts chain ids and addresses
// through its own tables and refuses a chain it does not know, and RustChain (21075) is not in them; stripping those
// conversions keeps the SDK's field order and sizes while reading chains as plain u16 and addresses as 32 raw bytes.
// Fixed fields (version, payload ids) keep their value check.
import { deserializeLayout, type Layout, serializeLayout } from "@wormhole-foundation/sdk-base";
import { envelopeLayout, headerLayout, tokenBridgeNamedPayloads } from "@wormhole-foundation/sdk-definitions";
import { BridgeError } from "./errors.ts";

type Item = { name?: string; omit?: boolean; custom?: unknown; layout?: unknown } & Record<string, unknown>;

function plain(layout: unknown): Layout {
  if (Array.isArray(layout)) return layout.map(plain) as unknown as Layout;
  const item = layout as Item;
  const { custom: _custom, ...rest } = item;
  const out: Item = item.omit ? { ...item } : rest;
  if (rest.layout !== undefined) out.layout = plain(rest.layout);
  return out as unknown as Layout;
}

export const vaaHeaderLayout = plain(headerLayout);
export const vaaBodyLayout = plain(envelopeLayout);

const tokenBridge = new Map(tokenBridgeNamedPayloads as unknown as [string, unknown][]);
export const transferLayout = plain(tokenBridge.get("Transfer"));
export const assetMetaLayout = plain(tokenBridge.get("AttestMeta"));
export const transferWithPayloadLayout = plain(tokenBridge.get("TransferWithPayload"));

/** Serialize with a layout; a value that does not fit (a u16 above 65535, 31 bytes for 32) is a VAA_MALFORMED. */
export function encodeWith(layout: Layout, value: unknown, what: string): Uint8Array {
  try {
    return serializeLayout(layout, value as never);
  } catch (e) {
    throw new BridgeError({ code: "VAA_MALFORMED", reason: `${what}: ${(e as Error).message}` });
  }
}

/** Deserialize exactly `bytes` (nothing may follow); any shortfall or bad fixed field is a VAA_MALFORMED. */
export function decodeWith<T>(layout: Layout, bytes: Uint8Array, what: string): T {
  try {
    return deserializeLayout(layout, bytes) as T;
  } catch (e) {
    throw new BridgeError({ code: "VAA_MALFORMED", reason: `${what}: ${(e as Error).message}` });
  }
}
