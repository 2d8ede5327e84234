// Command-line options of the benches.

/** An integer option value, at least `min`; anything else is an error naming the option. */
export function intOpt(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${v}`);
  return n;
}
