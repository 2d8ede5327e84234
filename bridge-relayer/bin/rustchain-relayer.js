#!/usr/bin/env node
// Entry point for `rustchain-relayer`: runs the TypeScript relayer through tsx's loader.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
