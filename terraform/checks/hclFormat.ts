// A checker for the layout `terraform fmt` produces, for machines without a terraform binary. It follows hclwrite's
// formatter (hclwrite/format.go) for the rules it checks, and reports instead of rewriting:
//
//   no tabs, no CR, no trailing whitespace,      the file ends in exactly one newline; no two blank lines in a row.
//   indent = 2 x open bracket lines              a line whose brackets net-open adds one level (however many it
//                                                opens); a line that net-closes pops the levels it closes first.
//   `=` aligned in a run of single-line          a run is consecutive lines whose first `=` starts a complete
//   attributes                                   expression (brackets balance on the rest of the line); any other line
//                                                (blank, comment, block header, `tags = {`) ends it. The `=` sits one
//                                                space after the longest key of the run, and one space follows it.
//   one blank line between top-level blocks      a top-level `}` is followed by a blank line or the end of the file.
//   no interpolation-only strings                `x = "${var.y}"` is written `x = var.y`.
//
// Heredoc bodies are left alone, as the formatter does; a heredoc attribute takes part in its run of `=`. Strings are scanned with their `${…}` interpolations, so
// brackets and `=` inside strings count only where HCL would count them.

export type FormatProblem = { line: number; message: string };

type ScannedLine = {
  /** Bracket change of the line outside string literals (interpolations count as brackets, as in hclwrite). */
  net: number;
  /** Column of the line's assignment `=` when it is a single-line attribute, else undefined. */
  assignAt: number | undefined;
  /** Whether the line starts a heredoc (`<<EOT` / `<<-EOT`), and its marker. */
  heredocMarker: string | undefined;
};

const OPEN = new Set(["{", "[", "("]);
const CLOSE = new Set(["}", "]", ")"]);

/** Scans one line (not inside a heredoc): bracket balance, the first top-level `=`, a heredoc opener. */
function scanLine(text: string): ScannedLine {
  let net = 0;
  let firstEq: number | undefined;
  let netAfterEq = 0;
  let heredocMarker: string | undefined;
  // A stack of string contexts: each entry is the bracket depth at which an interpolation inside a string was opened.
  let inString = false;
  const interpStack: number[] = [];
  let depthInInterp = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === "\\") {
        i++;
        continue;
      }
      if (c === '"') {
        inString = false;
        continue;
      }
      if ((c === "$" || c === "%") && text[i + 1] === "{" && text[i - 1] !== c) {
        interpStack.push(depthInInterp);
        depthInInterp = 0;
        inString = false;
        net++;
        if (firstEq !== undefined) netAfterEq++;
        i++;
      }
      continue;
    }
    if (c === "#" || (c === "/" && text[i + 1] === "/")) break;
    if (c === '"') {
      inString = true;
      continue;
    }
    if (c === "<" && text[i + 1] === "<" && firstEq !== undefined) {
      const m = /^<<-?([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(text.slice(i));
      if (m) {
        heredocMarker = m[1];
        break;
      }
    }
    if (OPEN.has(c)) {
      net++;
      if (firstEq !== undefined) netAfterEq++;
      if (interpStack.length > 0) depthInInterp++;
      continue;
    }
    if (CLOSE.has(c)) {
      net--;
      if (firstEq !== undefined) netAfterEq--;
      if (interpStack.length > 0) {
        if (c === "}" && depthInInterp === 0) {
          depthInInterp = interpStack.pop()!;
          inString = true;
          continue;
        }
        depthInInterp--;
      }
      continue;
    }
    if (c === "=" && firstEq === undefined && interpStack.length === 0) {
      const prev = text[i - 1] ?? "";
      const next = text[i + 1] ?? "";
      if (!"=!<>".includes(prev) && next !== "=" && next !== ">" && text.slice(0, i).trim().length > 0) firstEq = i;
    }
  }
  // A heredoc attribute counts as single-line: fmt aligns it with its neighbours, and its body does not end the run.
  const assignAt = firstEq !== undefined && netAfterEq === 0 ? firstEq : undefined;
  return { net, assignAt, heredocMarker };
}

/** Problems with `text` against `terraform fmt`'s layout; an empty list means fmt would leave it alone. */
export function checkHclFormat(text: string): FormatProblem[] {
  const problems: FormatProblem[] = [];
  const report = (line: number, message: string) => problems.push({ line, message });
  if (text.includes("\r")) report(1, "CR line endings");
  if (!text.endsWith("\n")) report(text.split("\n").length, "no newline at end of file");
  else if (text.endsWith("\n\n")) report(text.split("\n").length - 1, "blank lines at end of file");
  const lines = text.split("\n");
  if (text.endsWith("\n")) lines.pop();

  const indents: number[] = [];
  let heredoc: string | undefined;
  let chain: { line: number; leadWidth: number; assignAt: number; text: string }[] = [];
  const closeChain = () => {
    const width = Math.max(...chain.map((c) => c.leadWidth));
    for (const c of chain) {
      if (c.assignAt !== width + 1) report(c.line, `"=" at column ${c.assignAt + 1}, expected ${width + 2}`);
      if (!/^= \S/.test(c.text.slice(c.assignAt))) report(c.line, 'expected one space after "="');
    }
    chain = [];
  };

  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    const raw = lines[n]!;
    if (heredoc !== undefined) {
      if (raw.trim() === heredoc) heredoc = undefined;
      continue;
    }
    if (raw.includes("\t")) report(lineNo, "tab character");
    if (/[ \t]+$/.test(raw)) report(lineNo, "trailing whitespace");
    const trimmed = raw.trim();
    if (trimmed === "") {
      if (chain.length > 0) closeChain();
      if (n > 0 && lines[n - 1]!.trim() === "") report(lineNo, "two blank lines in a row");
      continue;
    }
    const scanned = scanLine(raw);
    let expectedLevel: number;
    if (scanned.net > 0) {
      expectedLevel = indents.length;
      indents.push(scanned.net);
    } else if (scanned.net < 0) {
      let closed = -scanned.net;
      while (closed > 0 && indents.length > 0) {
        const top = indents[indents.length - 1]!;
        if (closed >= top) {
          closed -= top;
          indents.pop();
        } else {
          indents[indents.length - 1] = top - closed;
          closed = 0;
        }
      }
      expectedLevel = indents.length;
    } else {
      expectedLevel = indents.length;
    }
    const indent = raw.length - raw.trimStart().length;
    if (indent !== 2 * expectedLevel) report(lineNo, `indent ${indent}, expected ${2 * expectedLevel}`);

    // fmt unwraps a string that is one interpolation ("${x}" becomes x).
    if (scanned.assignAt !== undefined && /^"\$\{[^{}]*\}"\s*(#.*)?$/.test(raw.slice(scanned.assignAt + 1).trim())) {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the message quotes HCL syntax.
      report(lineNo, 'interpolation-only string: write the expression without "${…}"');
    }
    if (scanned.assignAt !== undefined) {
      const leadWidth = raw.slice(0, scanned.assignAt).trimEnd().length;
      chain.push({ line: lineNo, leadWidth, assignAt: scanned.assignAt, text: raw });
    } else if (chain.length > 0) {
      closeChain();
    }
    if (scanned.heredocMarker !== undefined) heredoc = scanned.heredocMarker;

    // A top-level block ends: the next line must be blank (or the file ends).
    if (indents.length === 0 && scanned.net < 0 && n + 1 < lines.length && lines[n + 1]!.trim() !== "") {
      report(lineNo + 1, "expected a blank line between top-level blocks");
    }
  }
  if (chain.length > 0) closeChain();
  if (indents.length > 0) report(lines.length, "unbalanced brackets at end of file");
  return problems;
}
