// The operations files (infra/) checked with the tools that run them: promtool on the alert rules and their unit
// tests, systemd-analyze on the units, shellcheck on every script, and the dashboards' and alerts' PromQL against the
// metric names the code exports (so renaming a metric breaks this test, not a dashboard in production). A missing
// tool fails the test with how to install it; nothing is skipped.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRelease, type ReleaseResult, RUNTIME_EXTERNALS } from "../scripts/release.ts";

const ROOT = resolve(import.meta.dirname, "..");
const INFRA = join(ROOT, "infra");
const PROMETHEUS_DIR = join(INFRA, "prometheus");
const DASHBOARDS_DIR = join(INFRA, "grafana", "dashboards");
const SYSTEMD_DIR = join(INFRA, "systemd");
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's data source variable, not a JavaScript template
const DS_PROMETHEUS = "${DS_PROMETHEUS}";

/** The path of a tool on PATH; throws (failing the test) when it is not installed. */
function tool(name: string, debianPackage: string): string {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory
    }
  }
  throw new Error(`${name} is not installed: apt-get install ${debianPackage} (CI installs it)`);
}

function run(bin: string, args: string[], cwd = ROOT): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(bin, args, { cwd, encoding: "utf8" });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function walk(dir: string, keep: (path: string) => boolean): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules") out.push(...walk(path, keep));
    } else if (keep(path)) out.push(path);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Metric names the code exports

const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"];
/** Series Prometheus makes itself for every target. */
const SYNTHETIC_SERIES = ["up"];

/**
 * Every series name the code can expose: prom-client metrics (`new Counter({ name: "…" })` or a helper taking the
 * name first, `gauge("…", …)`; a histogram also gives its _bucket/_sum/_count), hand-written exposition text (`# TYPE name type`, the edge) and prom-client's default
 * metrics under the prefix the code passes to collectDefaultMetrics.
 */
function exportedMetricNames(): Set<string> {
  const sources = ["validator/src", "bridge-relayer/src", "edge/src", "shared/src"].flatMap((d) =>
    walk(join(ROOT, d), (p) => p.endsWith(".ts") && !p.endsWith(".test.ts")),
  );
  const names = new Set<string>(SYNTHETIC_SERIES);
  const add = (name: string, type: string | undefined) => {
    names.add(name);
    if (type === "histogram" || type === "Histogram") for (const s of HISTOGRAM_SUFFIXES) names.add(name + s);
    if (type === "summary" || type === "Summary") for (const s of ["_sum", "_count"]) names.add(name + s);
  };
  const prefixes: string[] = [];
  for (const file of sources) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/name:\s*["'`]([a-z_:][a-z0-9_:]*)["'`]/g)) {
      const name = m[1] as string;
      if (!/^(rustchain|bridge_relayer)_/.test(name)) continue;
      // the prom-client class constructing it, if it is the nearest one before the name
      const before = text.slice(Math.max(0, (m.index ?? 0) - 200), m.index);
      const ctor = [...before.matchAll(/new (Counter|Gauge|Histogram|Summary)\b/g)].at(-1)?.[1];
      add(name, ctor);
    }
    // helpers taking the name first: gauge("rustchain_peers", help, read)
    for (const m of text.matchAll(/\b(gauge|counter|histogram|summary)\w*\(\s*["'`]([a-z_:][a-z0-9_:]*)["'`]/gi))
      if (/^(rustchain|bridge_relayer)_/.test(m[2] as string)) add(m[2] as string, m[1]?.toLowerCase());
    for (const m of text.matchAll(/# TYPE ([a-z_:][a-z0-9_:]*) (counter|gauge|histogram|summary|untyped)/g))
      add(m[1] as string, m[2]);
    for (const m of text.matchAll(/collectDefaultMetrics\(\{[^}]*prefix:\s*["'`]([a-z_:][a-z0-9_:]*)["'`]/g))
      prefixes.push(m[1] as string);
  }
  if (prefixes.length > 0) {
    const defaults = join(ROOT, "node_modules", "prom-client", "lib", "metrics");
    for (const file of walk(defaults, (p) => p.endsWith(".js")))
      for (const m of readFileSync(file, "utf8").matchAll(/'((?:nodejs|process)_[a-z0-9_]+)'/g))
        for (const prefix of prefixes)
          add(prefix + m[1], m[1]?.startsWith("nodejs_gc_duration") ? "histogram" : undefined);
  }
  return names;
}

const PROMQL_KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
  "atan2",
  "inf",
  "nan",
]);

/** Series names a PromQL expression selects (functions, keywords, labels, strings, numbers and durations removed). */
function promqlMetricNames(expr: string): string[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/\{[^}]*\}/g, " ");
  s = s.replace(/\[[^\]]*\]/g, " ");
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, " ");
  s = s.replace(/(^|[^A-Za-z0-9_:])[0-9][0-9.]*(e[+-]?[0-9]+)?[smhdwy]?\b/gi, "$1 ");
  const names = new Set<string>();
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = s.slice((m.index ?? 0) + m[0].length).trimStart();
    if (after.startsWith("(")) continue; // a function or an aggregation
    if (PROMQL_KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

// ---------------------------------------------------------------------------------------------------------------
// The alert rules (a small reader for the shapes alerts.yml and alerts.test.yml use; no YAML library is installed)

interface AlertRule {
  alert: string;
  expr: string;
}

function readAlertRules(): AlertRule[] {
  const lines = readFileSync(join(PROMETHEUS_DIR, "alerts.yml"), "utf8").split("\n");
  const rules: AlertRule[] = [];
  for (let i = 0; i < lines.length; i++) {
    const alert = /^\s*- alert:\s*(\S+)\s*$/.exec(lines[i] as string);
    if (alert) rules.push({ alert: alert[1] as string, expr: "" });
    const expr = /^(\s*)expr:\s*(.*)$/.exec(lines[i] as string);
    if (!expr) continue;
    const rule = rules.at(-1);
    if (!rule) throw new Error(`alerts.yml:${i + 1}: expr outside an alert`);
    if (expr[2] === "|" || expr[2] === ">") {
      const indent = (expr[1] as string).length;
      const body: string[] = [];
      while (
        i + 1 < lines.length &&
        ((lines[i + 1] as string).trim() === "" || (lines[i + 1] as string).search(/\S/) > indent)
      )
        body.push((lines[++i] as string).trim());
      rule.expr = body.join(" ").trim();
    } else rule.expr = (expr[2] as string).trim();
  }
  return rules;
}

describe("Prometheus alert rules (infra/prometheus)", () => {
  it("promtool check rules accepts alerts.yml and check config accepts prometheus.yml", () => {
    const promtool = tool("promtool", "prometheus");
    const rules = run(promtool, ["check", "rules", "alerts.yml"], PROMETHEUS_DIR);
    expect(rules.status, rules.stdout + rules.stderr).toBe(0);
    const config = run(promtool, ["check", "config", "prometheus.yml"], PROMETHEUS_DIR);
    expect(config.status, config.stdout + config.stderr).toBe(0);
  });

  it("promtool test rules passes alerts.test.yml", () => {
    const promtool = tool("promtool", "prometheus");
    const r = run(promtool, ["test", "rules", "alerts.test.yml"], PROMETHEUS_DIR);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it("every alert has a unit test that makes it fire and stays silent on the healthy deployment", () => {
    const alerts = readAlertRules().map((r) => r.alert);
    expect(alerts.length).toBeGreaterThanOrEqual(12);
    const tests = readFileSync(join(PROMETHEUS_DIR, "alerts.test.yml"), "utf8");
    const firing = new Set(
      [...tests.matchAll(/alertname:\s*(\w+)\s*\n\s*exp_alerts:\s*\n\s*- exp_labels/g)].map((m) => m[1]),
    );
    const silent = new Set([...tests.matchAll(/alertname:\s*(\w+),\s*exp_alerts:\s*\[\]/g)].map((m) => m[1]));
    expect(
      alerts.filter((a) => !firing.has(a)),
      "alerts without a test that fires them",
    ).toEqual([]);
    expect(
      alerts.filter((a) => !silent.has(a)),
      "alerts not checked silent on the healthy deployment",
    ).toEqual([]);
  });

  it("alert expressions name only metrics the code exports", () => {
    const exported = exportedMetricNames();
    const missing = readAlertRules().flatMap((r) =>
      promqlMetricNames(r.expr)
        .filter((n) => !exported.has(n))
        .map((n) => `${r.alert}: ${n}`),
    );
    expect(missing, `metrics named in alerts.yml that no code exports:\n${missing.join("\n")}`).toEqual([]);
  });
});

describe("promqlMetricNames", () => {
  it("finds the selected series, not functions, labels, keywords, strings or durations", () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.95, sum by (le, method) (rate(a_seconds_bucket{instance=~"$i", x="y z"}[5m]))) / on (instance) group_left b offset 5m > bool 1e3 and c',
      ).sort(),
    ).toEqual(["a_seconds_bucket", "b", "c"]);
    expect(promqlMetricNames("predict_linear(disk_free[6h], 24 * 3600) < 0 and disk_free < 10 * 1024")).toEqual([
      "disk_free",
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Grafana dashboards

interface Target {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  __inputs?: { name: string; pluginId: string }[];
  templating?: { list: { name: string; type: string; query?: string | { query: string } }[] };
}

function readDashboards(): { file: string; dashboard: Dashboard }[] {
  const files = readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith(".json"));
  return files.map((file) => ({
    file,
    dashboard: JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), "utf8")) as Dashboard,
  }));
}

/** Every PromQL query of a dashboard: panel targets and query variables (label_values(<selector>, label) → selector). */
function dashboardQueries(d: Dashboard): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  const visit = (panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: p.title, expr: t.expr });
      if (p.panels) visit(p.panels);
    }
  };
  visit(d.panels);
  for (const v of d.templating?.list ?? []) {
    if (v.type !== "query") continue;
    const q = typeof v.query === "string" ? v.query : (v.query?.query ?? "");
    const labelValues = /^label_values\((.*),\s*[A-Za-z_]\w*\)$/.exec(q);
    out.push({ where: `variable ${v.name}`, expr: labelValues ? (labelValues[1] as string) : q });
  }
  return out;
}

describe("Grafana dashboards (infra/grafana)", () => {
  it("the validator, bridge and edge dashboards parse, with unique panel ids and every panel on the DS_PROMETHEUS data source", () => {
    const dashboards = readDashboards();
    expect(dashboards.map((d) => d.file).sort()).toEqual([
      "rustchain-bridge.json",
      "rustchain-edge.json",
      "rustchain-validator.json",
    ]);
    const uids = new Set<string>();
    for (const { file, dashboard: d } of dashboards) {
      expect(d.schemaVersion, file).toBeGreaterThanOrEqual(36);
      expect(d.title, file).toBeTruthy();
      expect(uids.has(d.uid), `${file}: duplicate uid ${d.uid}`).toBe(false);
      uids.add(d.uid);
      expect(
        d.__inputs?.map((i) => [i.name, i.pluginId]),
        file,
      ).toEqual([["DS_PROMETHEUS", "prometheus"]]);
      expect(
        d.templating?.list.some((v) => v.name === "DS_PROMETHEUS" && v.type === "datasource"),
        file,
      ).toBe(true);
      const ids = new Set<number>();
      for (const p of d.panels) {
        expect(ids.has(p.id), `${file}: duplicate panel id ${p.id}`).toBe(false);
        ids.add(p.id);
        if (p.type === "row") continue;
        expect(p.datasource?.uid, `${file}: ${p.title}`).toBe(DS_PROMETHEUS);
        expect(p.targets?.length, `${file}: ${p.title} has no query`).toBeGreaterThan(0);
        for (const t of p.targets ?? []) {
          expect(t.expr, `${file}: ${p.title}`).toBeTruthy();
          expect(t.datasource?.uid, `${file}: ${p.title}`).toBe(DS_PROMETHEUS);
        }
      }
      expect(ids.size, file).toBeGreaterThanOrEqual(5);
    }
  });

  it("every dashboard query names only metrics the code exports", () => {
    const exported = exportedMetricNames();
    const missing = readDashboards().flatMap(({ file, dashboard }) =>
      dashboardQueries(dashboard).flatMap((q) =>
        promqlMetricNames(q.expr)
          .filter((n) => !exported.has(n))
          .map((n) => `${file} (${q.where}): ${n}`),
      ),
    );
    expect(missing, `metrics named in dashboards that no code exports:\n${missing.join("\n")}`).toEqual([]);
  });

  it("every dashboard query is valid PromQL (promtool check rules on them as recording rules)", () => {
    const promtool = tool("promtool", "prometheus");
    const exprs = readDashboards().flatMap(({ dashboard }) => dashboardQueries(dashboard).map((q) => q.expr));
    const dir = mkdtempSync(join(tmpdir(), "dashboards-promql-"));
    try {
      const rules = exprs.map(
        (e, i) =>
          `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(e.replaceAll("$instance", ".*"))}`,
      );
      writeFileSync(join(dir, "queries.yml"), `groups:\n  - name: dashboards\n    rules:\n${rules.join("\n")}\n`);
      const r = run(promtool, ["check", "rules", "queries.yml"], dir);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`${exprs.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the provisioning files point Grafana at the dashboards and a Prometheus data source", () => {
    const provider = readFileSync(join(INFRA, "grafana/provisioning/dashboards/rustchain.yaml"), "utf8");
    expect(provider).toMatch(/type: file/);
    expect(provider).toMatch(/path: \/var\/lib\/grafana\/dashboards\/rustchain/);
    const datasource = readFileSync(join(INFRA, "grafana/provisioning/datasources/prometheus.yaml"), "utf8");
    expect(datasource).toMatch(/type: prometheus/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// systemd units

const UNITS = ["rustchain-validator.service", "rustchain-relayer.service", "rustchain-edge.service"];

/**
 * `systemd-analyze verify` on a copy of the unit whose ExecStart binary (/opt/rustchain/bin/…, absent on a build
 * machine) is replaced by an executable that exists (this node), since verify fails on a missing binary. It exits 0
 * on unknown keys and bad values (it only prints them), so the check is: exit 0 and nothing printed.
 */
function verifyUnit(text: string, name: string): { status: number | null; output: string } {
  const systemdAnalyze = tool("systemd-analyze", "systemd");
  const dir = mkdtempSync(join(tmpdir(), "units-"));
  try {
    writeFileSync(join(dir, name), text.replace(/\/opt\/rustchain\/bin\/[\w-]+/g, process.execPath));
    const r = run(systemdAnalyze, ["verify", "--man=no", join(dir, name)], dir);
    return { status: r.status, output: (r.stdout + r.stderr).trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("systemd units (infra/systemd)", () => {
  it.each(UNITS)("systemd-analyze verify passes on %s without a warning", (name) => {
    const r = verifyUnit(readFileSync(join(SYSTEMD_DIR, name), "utf8"), name);
    expect(r.output).toBe("");
    expect(r.status).toBe(0);
  });

  it("the verify check catches an unknown key and a bad value (it would not pass a broken unit)", () => {
    const text = readFileSync(join(SYSTEMD_DIR, UNITS[0] as string), "utf8")
      .replace("ProtectSystem=strict", "ProtectSystem=very")
      .replace("NoNewPrivileges=yes", "NoNewPrivileges=yes\nNoNewPrivilege=yes");
    const r = verifyUnit(text, UNITS[0] as string);
    expect(r.output).toMatch(/protect system value/i);
    expect(r.output).toMatch(/Unknown key 'NoNewPrivilege'/);
  });

  it.each(UNITS)(
    "%s runs as rustchain, restarts with limits and is hardened (without MemoryDenyWriteExecute)",
    (name) => {
      const text = readFileSync(join(SYSTEMD_DIR, name), "utf8");
      const settings = new Map(
        text
          .split("\n")
          .filter((l) => /^[A-Za-z]+=/.test(l))
          .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as const),
      );
      expect(Object.fromEntries(settings)).toMatchObject({
        User: "rustchain",
        Group: "rustchain",
        Restart: "on-failure",
        StartLimitIntervalSec: expect.stringMatching(/^\d+/),
        StartLimitBurst: expect.stringMatching(/^\d+$/),
        KillSignal: "SIGTERM",
        TimeoutStopSec: expect.stringMatching(/^\d+s$/),
        NoNewPrivileges: "yes",
        ProtectSystem: "strict",
        ProtectHome: "yes",
        PrivateTmp: "yes",
        ReadWritePaths: "/var/lib/rustchain",
        CapabilityBoundingSet: "",
        RestrictAddressFamilies: expect.stringContaining("AF_INET"),
        SystemCallFilter: "@system-service",
        LimitNOFILE: expect.stringMatching(/^\d+$/),
        EnvironmentFile: expect.stringMatching(/^-?\/etc\/rustchain\//),
        ExecStart: expect.stringMatching(/^\/opt\/rustchain\/bin\/rustchain(-relayer)? /),
      });
      expect(settings.has("MemoryDenyWriteExecute")).toBe(false);
      expect(text).toMatch(/MemoryDenyWriteExecute= is deliberately NOT set: V8's JIT/);
    },
  );

  it("the validator runs `rustchain node --config /etc/rustchain/node.json`", () => {
    expect(readFileSync(join(SYSTEMD_DIR, "rustchain-validator.service"), "utf8")).toContain(
      "ExecStart=/opt/rustchain/bin/rustchain node --config /etc/rustchain/node.json\n",
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Shell scripts

describe("shell scripts", () => {
  it("shellcheck passes on every *.sh in the repository", () => {
    const shellcheck = tool("shellcheck", "shellcheck");
    const scripts = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "*.sh"], {
      cwd: ROOT,
      encoding: "utf8",
    })
      .split("\n")
      .filter((f) => f && existsSync(join(ROOT, f)));
    expect(scripts).toContain("infra/scripts/install.sh");
    const r = run(shellcheck, ["--severity=style", ...scripts]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The release

describe("release (npm run release)", () => {
  let outDir: string;
  let release: ReleaseResult;

  beforeAll(async () => {
    // outside the repository: no node_modules (so no tsx) above it for node's resolution
    outDir = mkdtempSync(join(tmpdir(), "rustchain-release-"));
    release = await buildRelease({ outDir });
  }, 180_000);

  afterAll(() => {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  const nodeEnv = () => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // vitest or a shell may put a loader there
    return env;
  };

  it("lays out VERSION, package.json with the external modules only, launchers, units, install.sh and a tarball", () => {
    const pkg = JSON.parse(readFileSync(join(release.dir, "package.json"), "utf8")) as {
      version: string;
      dependencies: Record<string, string>;
    };
    const rootVersion = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
    expect(release.version).toMatch(new RegExp(`^${rootVersion.replaceAll(".", "\\.")}-[0-9a-f]{7,}(-dirty)?$`));
    expect(basename(release.dir)).toBe(`rustchain-${release.version}`);
    expect(readFileSync(join(release.dir, "VERSION"), "utf8")).toBe(`${release.version}\n`);
    expect(pkg.version).toBe(release.version);
    expect(Object.keys(pkg.dependencies).sort()).toEqual([...RUNTIME_EXTERNALS].sort());
    for (const dep of RUNTIME_EXTERNALS)
      expect(existsSync(join(release.dir, "node_modules", dep, "package.json")), dep).toBe(true);
    for (const bin of ["rustchain", "rustchain-relayer", "../install.sh"])
      expect(statSync(join(release.dir, "bin", bin)).mode & 0o111, bin).not.toBe(0);
    for (const unit of UNITS) expect(existsSync(join(release.dir, "systemd", unit)), unit).toBe(true);
    for (const example of ["node.json.example", "validator.env.example", "relayer.env.example", "edge.env.example"])
      expect(existsSync(join(release.dir, "config", example)), example).toBe(true);
    for (const entry of ["rustchain.js", "rustchain-relayer.js", "recoveryWorker.js", "chunkWorker.js"])
      expect(existsSync(join(release.dir, "lib", entry)), entry).toBe(true);
    expect(release.tarball && existsSync(release.tarball)).toBe(true);
    const listing = execFileSync("tar", ["-tzf", release.tarball as string], { encoding: "utf8" });
    expect(listing).toContain(`rustchain-${release.version}/bin/rustchain\n`);
    expect(listing).toContain(`rustchain-${release.version}/lib/rustchain.js\n`);
  });

  it("is compiled JavaScript: no TypeScript sources, no tsx import in the bundles, no tsx in the release", () => {
    const files = walk(release.dir, () => true).map((f) => relative(release.dir, f));
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    expect(existsSync(join(release.dir, "node_modules", "tsx"))).toBe(false);
    for (const f of files.filter((f) => f.startsWith("lib/") && f.endsWith(".js")))
      expect(readFileSync(join(release.dir, f), "utf8"), f).not.toMatch(/from\s*["']tsx|import\(["']tsx/);
    // the worker entry points are referenced by their compiled names
    const bundles = files
      .filter((f) => f.startsWith("lib/") && f.endsWith(".js"))
      .map((f) => readFileSync(join(release.dir, f), "utf8"));
    expect(bundles.some((b) => b.includes('new URL("./recoveryWorker.js", import.meta.url)'))).toBe(true);
    expect(
      bundles.some((b) => b.includes('new URL("./chunkWorker.ts"') || b.includes('new URL("./recoveryWorker.ts"')),
    ).toBe(false);
  });

  it("node runs lib/rustchain.js --help, and the launchers run the validator, bridge and relayer CLIs", () => {
    const direct = spawnSync(process.execPath, [join(release.dir, "lib", "rustchain.js"), "--help"], {
      cwd: outDir,
      encoding: "utf8",
      env: nodeEnv(),
    });
    expect(direct.status, direct.stderr).toBe(0);
    expect(direct.stdout).toMatch(/Usage: rustchain/);
    const env = { ...nodeEnv(), RUSTCHAIN_NODE: process.execPath };
    const launch = (bin: string, args: string[]) =>
      spawnSync(join(release.dir, "bin", bin), args, { cwd: outDir, encoding: "utf8", env });
    const devnet = launch("rustchain", ["devnet", "--help"]);
    expect(devnet.status, devnet.stderr).toBe(0);
    expect(devnet.stdout).toMatch(/Usage: rustchain devnet/);
    const bridge = launch("rustchain", ["bridge", "--help"]);
    expect(bridge.status, bridge.stderr).toBe(0);
    expect(bridge.stdout).toMatch(/Usage: rustchain bridge/);
    const edge = launch("rustchain", ["edge", "--help"]);
    expect(edge.status, edge.stderr).toBe(0);
    expect(edge.stdout).toMatch(/Usage: rustchain edge/);
    const relayer = launch("rustchain-relayer", ["--help"]);
    expect(relayer.status, relayer.stderr).toBe(0);
    expect(relayer.stdout).toMatch(/Usage: rustchain-relayer/);
  });

  it("the compiled `rustchain node --config` accepts config/node.json.example (it stops at the missing genesis)", () => {
    const missing = join(outDir, "missing-genesis.json");
    const r = spawnSync(
      join(release.dir, "bin", "rustchain"),
      [
        "node",
        "--config",
        join(release.dir, "config", "node.json.example"),
        "--datadir",
        join(outDir, "node"),
        "--genesis",
        missing,
      ],
      { cwd: outDir, encoding: "utf8", env: { ...nodeEnv(), RUSTCHAIN_NODE: process.execPath } },
    );
    expect(r.stderr).not.toMatch(/--config/);
    expect(r.stderr).toContain(`cannot load the genesis file ${missing}`);
    expect(r.status).toBe(1);
  });

  it("the worker-thread entry points load under plain node and export their task function", () => {
    for (const worker of ["recoveryWorker", "chunkWorker"]) {
      const r = spawnSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `const m = await import(${JSON.stringify(join(release.dir, "lib", `${worker}.js`))}); console.log(typeof m.default)`,
        ],
        { cwd: outDir, encoding: "utf8", env: nodeEnv() },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim(), worker).toBe("function");
    }
  });

  it("the launchers pass shellcheck", () => {
    const shellcheck = tool("shellcheck", "shellcheck");
    const r = run(shellcheck, [
      "--shell=sh",
      join(release.dir, "bin", "rustchain"),
      join(release.dir, "bin", "rustchain-relayer"),
    ]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("rustchain --version prints the release's VERSION", () => {
    const r = spawnSync(join(release.dir, "bin", "rustchain"), ["--version"], {
      cwd: outDir,
      encoding: "utf8",
      env: { ...nodeEnv(), RUSTCHAIN_NODE: process.execPath },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(release.version);
  });

  it("a compiled devnet opens RocksDB (native addon), starts its worker pools, produces blocks and exits 0 on SIGTERM", async () => {
    const datadir = join(outDir, "devnet");
    const child = spawn(
      join(release.dir, "bin", "rustchain"),
      [
        "devnet",
        "--no-ai",
        "--datadir",
        datadir,
        "--slot-ms",
        "500",
        "--rpc-addr",
        "127.0.0.1:0",
        "--metrics-addr",
        "127.0.0.1:0",
        "--grpc-addr",
        "127.0.0.1:0",
      ],
      { cwd: outDir, env: { ...nodeEnv(), RUSTCHAIN_NODE: process.execPath }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let log = "";
    child.stdout.on("data", (b: Buffer) => {
      log += b.toString();
    });
    child.stderr.on("data", (b: Buffer) => {
      log += b.toString();
    });
    try {
      const deadline = Date.now() + 45_000;
      let rpcUrl: string | undefined;
      let head = 0;
      while (Date.now() < deadline && head < 3) {
        await new Promise((r) => setTimeout(r, 250));
        if (child.exitCode !== null) throw new Error(`devnet exited (${child.exitCode}):\n${log}`);
        rpcUrl ??= /"url":"(http:\/\/127\.0\.0\.1:\d+)","chainId"/.exec(log)?.[1];
        if (!rpcUrl) continue;
        const res = await fetch(rpcUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }),
        }).catch(() => undefined);
        if (res?.ok) head = Number(((await res.json()) as { result: string }).result);
      }
      expect(head, log).toBeGreaterThanOrEqual(3);
      // gRPC runs from the release too: its .proto files (proto/ and the gRPC packages' own) are shipped
      expect(log).toMatch(/"address":"127\.0\.0\.1:\d+","msg":"gRPC listening"/);
      // systemd stops the service with SIGTERM (through the launcher's exec) and restarts it on a non-zero exit
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      child.kill("SIGTERM");
      expect(await exited, log).toBe(0);
      expect(log).toMatch(/"msg":"Stopped"/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }, 60_000);
});
