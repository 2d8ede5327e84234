// Warp-sync progress for people: a bar (chunks, bytes, rate, ETA) on a terminal, a structured log line every few
// seconds otherwise (services, CI, log shippers).
import cliProgress from "cli-progress";
import type { Logger } from "pino";

export interface SyncProgress {
  start(totalChunks: number, totalBytes: number, doneChunks: number, doneBytes: number): void;
  chunkDone(bytes: number): void;
  stop(): void;
}

const MiB = 1024 * 1024;

export function createSyncProgress(logger: Logger, opts: { tty?: boolean; logEveryMs?: number } = {}): SyncProgress {
  const tty = opts.tty ?? Boolean(process.stderr.isTTY);
  let total = { chunks: 0, bytes: 0 };
  let done = { chunks: 0, bytes: 0 };
  let startedAt = 0;
  let startBytes = 0;
  const rate = () => (done.bytes - startBytes) / Math.max(0.001, (Date.now() - startedAt) / 1000);
  const eta = () => {
    const r = rate();
    return r > 0 ? Math.round((total.bytes - done.bytes) / r) : undefined;
  };
  let bar: cliProgress.SingleBar | undefined;
  let timer: NodeJS.Timeout | undefined;
  const log = () =>
    logger.info(
      {
        chunks: done.chunks,
        totalChunks: total.chunks,
        bytes: done.bytes,
        totalBytes: total.bytes,
        mibPerSecond: Number((rate() / MiB).toFixed(2)),
        etaSeconds: eta(),
      },
      "Warp sync progress",
    );
  return {
    start(totalChunks, totalBytes, doneChunks, doneBytes) {
      total = { chunks: totalChunks, bytes: totalBytes };
      done = { chunks: doneChunks, bytes: doneBytes };
      startedAt = Date.now();
      startBytes = doneBytes;
      if (tty) {
        bar = new cliProgress.SingleBar(
          {
            format:
              "warp sync |{bar}| {value}/{total} chunks | {mib}/{totalMib} MiB | {rate} MiB/s | ETA {eta_formatted}",
            stream: process.stderr,
            hideCursor: true,
            etaBuffer: 20,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(totalChunks, doneChunks, payload());
      } else {
        timer = setInterval(log, opts.logEveryMs ?? 2000);
        timer.unref();
        log();
      }
    },
    chunkDone(bytes) {
      done.chunks++;
      done.bytes += bytes;
      bar?.update(done.chunks, payload());
    },
    stop() {
      if (bar) bar.stop();
      if (timer) clearInterval(timer);
      if (!tty) log();
    },
  };
  function payload() {
    return {
      mib: (done.bytes / MiB).toFixed(1),
      totalMib: (total.bytes / MiB).toFixed(1),
      rate: (rate() / MiB).toFixed(1),
    };
  }
}
