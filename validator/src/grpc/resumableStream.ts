// One server stream that resumes with no gap: live items are queued from the moment the call starts, the backlog (what
// the client asked for that already exists) is sent from storage, then the queue, without the items the backlog
// already covered, then live items as they come. Invariants: items go out in the order the source produced them;
// none is lost between the backlog and the live feed; writes wait for the transport ('drain'); a client that falls
// more than `maxQueued` items behind is ended RESOURCE_EXHAUSTED (it resumes from the last item it got) rather than
// held in memory without bound.
import type { ServerWritableStream } from "@grpc/grpc-js";
import { GrpcApiError, toServiceError } from "./errors.ts";

export interface ResumableSource<T, M> {
  /** Start delivering live items; returns the unsubscribe function. */
  subscribe(push: (item: T) => void): () => void;
  /** Items that exist already, oldest first; checked before anything is sent (may throw a GrpcApiError). */
  backlog(): AsyncIterable<T>;
  /** After the backlog: whether a queued live item was already sent by it. */
  sent(item: T): boolean;
  message(item: T): M | Promise<M>;
  maxQueued: number;
}

/** Serve `call` from `source` until the client cancels or `stop` is signalled; errors end the call with a status. */
export async function serveResumable<T, M>(
  call: ServerWritableStream<unknown, M>,
  source: ResumableSource<T, M>,
  stop: AbortSignal,
): Promise<void> {
  const queue: T[] = [];
  let overflow = false;
  let wake: (() => void) | undefined;
  let done = false;
  const finish = () => {
    done = true;
    wake?.();
  };
  call.on("cancelled", finish);
  call.on("close", finish);
  stop.addEventListener("abort", finish, { once: true });
  const unsubscribe = source.subscribe((item) => {
    if (queue.length >= source.maxQueued) overflow = true;
    else queue.push(item);
    wake?.();
  });
  const write = async (msg: M) => {
    if (call.write(msg)) return;
    await new Promise<void>((resolve) => {
      wake = resolve;
      call.once("drain", resolve);
    });
  };
  try {
    for await (const item of source.backlog()) {
      if (done) return;
      await write(await source.message(item));
      if (overflow) break;
    }
    let backlogDone = false;
    while (!done && !overflow) {
      const item = queue.shift();
      if (item === undefined) {
        backlogDone = true;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      if (!backlogDone && source.sent(item)) continue;
      await write(await source.message(item));
    }
    if (overflow && !done) {
      const reason = `more than ${source.maxQueued} messages behind; resume from the last one received`;
      call.emit("error", toServiceError(new GrpcApiError({ code: "GRPC_RESOURCE_EXHAUSTED", reason }, reason)));
    } else if (!call.writableEnded) call.end();
  } catch (err) {
    if (!done) call.emit("error", toServiceError(err));
  } finally {
    unsubscribe();
    stop.removeEventListener("abort", finish);
  }
}
