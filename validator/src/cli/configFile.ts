// `rustchain node --config <file>`: every flag of a command in one JSON file, so a systemd unit stays one line, with
// environment overrides. Keys are the flags' long names in camelCase (`p2pAddr`, `bootstrap`, `dhtPrivateAddrs`);
// values are strings, numbers, booleans (a `--no-x` flag is `"x": false`) or arrays (comma-joined). Precedence:
// the command line, then RUSTCHAIN_<FLAG> in the environment (RUSTCHAIN_P2P_ADDR for --p2p-addr), then the file,
// then the defaults. The file is bounded and unknown keys are refused by name.
import { readFileSync, statSync } from "node:fs";
import type { Command, Option } from "commander";
import { InvalidArgumentError } from "commander";

const MAX_CONFIG_BYTES = 1024 * 1024;

type Value = string | number | boolean | (string | number)[];

/** --p2p-addr → p2pAddr; --no-dht-private-addrs → dhtPrivateAddrs. */
function keyOf(o: Option): string {
  return o.attributeName();
}

function envName(o: Option): string {
  return `RUSTCHAIN_${(o.long ?? "")
    .replace(/^--(no-)?/, "")
    .replace(/-/g, "_")
    .toUpperCase()}`;
}

/** The flags a value stands for, or an error message. */
function flagsFor(o: Option, value: Value, where: string): string[] {
  const long = o.long as string;
  const positive = long.replace(/^--no-/, "--");
  if (typeof value === "boolean") {
    if (o.negate) return value ? [] : [long];
    if (o.required) throw new InvalidArgumentError(`${where}: ${keyOf(o)} takes a value, not a boolean`);
    return value ? [positive] : [];
  }
  if (o.negate) throw new InvalidArgumentError(`${where}: ${keyOf(o)} is true or false`);
  if (!o.required && !o.optional) throw new InvalidArgumentError(`${where}: ${keyOf(o)} is true or false`);
  return [long, Array.isArray(value) ? value.join(",") : String(value)];
}

function given(argv: readonly string[], o: Option): boolean {
  const names = [o.long, o.short, o.long?.replace(/^--no-/, "--")].filter((x): x is string => !!x);
  return argv.some((a) => names.includes(a) || names.some((n) => a.startsWith(`${n}=`)));
}

/**
 * argv with the config file's and the environment's settings added for every flag of `cmd` the command line does not
 * set. `args` are the arguments after the command name.
 */
export function applyConfig(cmd: Command, args: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const at = args.findIndex((a) => a === "--config" || a.startsWith("--config="));
  let file: Record<string, Value> = {};
  let path: string | undefined;
  if (at >= 0) {
    path = args[at]?.includes("=") ? args[at]?.slice("--config=".length) : args[at + 1];
    if (!path) throw new InvalidArgumentError("--config needs a file");
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      throw new InvalidArgumentError(`--config: cannot read ${path}`);
    }
    if (size > MAX_CONFIG_BYTES) throw new InvalidArgumentError(`--config: ${path} is over ${MAX_CONFIG_BYTES} bytes`);
    try {
      file = JSON.parse(readFileSync(path, "utf8")) as Record<string, Value>;
    } catch (e) {
      throw new InvalidArgumentError(`--config: ${path} is not valid JSON (${(e as Error).message})`);
    }
    if (typeof file !== "object" || file === null || Array.isArray(file))
      throw new InvalidArgumentError(`--config: ${path} must hold a JSON object`);
  }
  const options = cmd.options.filter((o) => o.long && o.long !== "--config" && o.long !== "--help");
  const known = new Map(options.map((o) => [keyOf(o), o]));
  const unknown = Object.keys(file).filter((k) => !known.has(k));
  if (unknown.length > 0)
    throw new InvalidArgumentError(`--config: unknown setting(s) ${unknown.join(", ")} in ${path}`);
  const inline = at >= 0 && (args[at] as string).includes("=");
  const out = at < 0 ? [...args] : args.filter((_, i) => i !== at && !(i === at + 1 && !inline));
  for (const o of options) {
    if (given(out, o)) continue;
    const fromEnv = env[envName(o)];
    if (fromEnv !== undefined) {
      const value: Value = fromEnv === "true" ? true : fromEnv === "false" ? false : fromEnv;
      out.push(...flagsFor(o, value, envName(o)));
      continue;
    }
    const v = file[keyOf(o)];
    if (v !== undefined) out.push(...flagsFor(o, v, path ?? "config"));
  }
  return out;
}
