// Reading a Fetch-API body without trusting its sender: the HTTP request bodies the edge serves, the bundles the core
// pushes and the answers of the core's pull endpoints all go through here.

export interface BoundedReadOptions {
  /**
   * After the body passed the limit, keep reading (and discarding) up to this many bytes in all before giving up, so a
   * client still uploading gets its 413 instead of a reset connection (the core does the same). Default: stop at once.
   */
  drainUpTo?: number;
}

/**
 * The body of a Request or Response as UTF-8 text, or undefined when it is over `limit` bytes. The stream is read and
 * dropped as soon as it passes the limit (a lying or absent Content-Length changes nothing; nothing past the limit is
 * buffered); a declared Content-Length over the limit is refused without buffering anything.
 */
export async function readBodyBounded(
  message: Request | Response,
  limit: number,
  opts: BoundedReadOptions = {},
): Promise<string | undefined> {
  const declared = message.headers.get("content-length");
  const declaredOver = declared !== null && /^\d+$/.test(declared) && Number(declared) > limit;
  if (!message.body) return declaredOver ? undefined : "";
  const reader = message.body.getReader();
  const giveUp = async () => {
    await reader.cancel().catch(() => undefined);
    return undefined;
  };
  const drainTo = opts.drainUpTo ?? 0;
  const chunks: Uint8Array[] = [];
  let size = 0;
  let over = declaredOver;
  if (over && drainTo <= limit) return giveUp();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (!over && size > limit) {
      over = true;
      chunks.length = 0;
      if (drainTo <= limit) return giveUp();
    }
    if (!over) chunks.push(value);
    else if (size > drainTo) return giveUp();
  }
  if (over) return undefined;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
