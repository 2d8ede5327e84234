// Reading a libp2p 3 stream as an async iterable of chunks. The stream's own iterator misses data (and the remote's
// close) that arrived before the first listener was attached, which happens whenever a handler awaits anything before
// reading, or a client reads only after sending; this reader re-dispatches any such buffered data first.
import type { Stream, StreamCloseEvent, StreamMessageEvent } from "@libp2p/interface";
import { ReqRespError } from "./errors.ts";

type Chunk = StreamMessageEvent["data"];

export async function* streamSource(stream: Stream): AsyncGenerator<Chunk, void, undefined> {
  const queue: Chunk[] = [];
  let ended = false;
  let error: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onMessage = (evt: StreamMessageEvent): void => {
    queue.push(evt.data);
    notify();
  };
  const onClose = (evt: StreamCloseEvent): void => {
    ended = true;
    error = evt.error;
    notify();
  };
  const onRemoteCloseWrite = (): void => {
    ended = true;
    notify();
  };
  stream.addEventListener("message", onMessage);
  stream.addEventListener("close", onClose);
  stream.addEventListener("remoteCloseWrite", onRemoteCloseWrite);
  try {
    if (stream.readBufferLength > 0 && (stream.readStatus === "readable" || stream.readStatus === "paused")) {
      // resume() synchronously dispatches the read buffer to the listener attached above.
      stream.pause();
      stream.resume();
    }
    if (stream.remoteWriteStatus === "closed" || stream.status !== "open") ended = true;
    while (true) {
      const next = queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (error !== undefined) {
        throw error instanceof ReqRespError
          ? error
          : new ReqRespError({ code: "REQ_STREAM_ERROR", reason: error.name });
      }
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stream.removeEventListener("message", onMessage);
    stream.removeEventListener("close", onClose);
    stream.removeEventListener("remoteCloseWrite", onRemoteCloseWrite);
  }
}
