// Reading a Fetch-API body without trusting its sender: the HTTP request bodies the edge serves, the bundles the core
// pushes and the answers of the core's pull endpoints all go through here.

/**
 * The body of a Request or Response as UTF-8 text, or undefined when it is over `limit` bytes. A declared
 * Content-Length over the limit is refused unread; otherwise the stream is read and dropped as soon as it passes the
 * limit, so a lying or absent Content-Length changes nothing and nothing past the limit is buffered.
 */
export async function readBodyBounded(message: Request | Response, limit: number): Promise<string | undefined> {
  const declared = message.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > limit) {
    await message.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!message.body) return "";
  const reader = message.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
