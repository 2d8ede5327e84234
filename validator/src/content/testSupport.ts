// Helpers for the content store's tests (not shipped code: only *.test.ts import this file).
import { ContentError } from "./errors.ts";

/** The ContentError code a promise rejects with (throws if it resolves or rejects with anything else). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ContentError) return e.type.code;
    throw e;
  }
  throw new Error("expected a rejection");
}
