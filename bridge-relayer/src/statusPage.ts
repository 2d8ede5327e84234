// The status page: one HTML document with no external assets. Search by source transaction hash, address, digest or
// Wormhole message id (<chain>/<emitter>/<sequence>); each transfer shows its steps, the current one with its ETA, and what the user can do when it needs them (refund).
export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>RustChain bridge status</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1d2330; padding: 0 1rem; }
  h1 { font-size: 1.4rem; }
  form { display: flex; gap: .5rem; margin: 1rem 0; }
  input { flex: 1; padding: .5rem; font-family: monospace; }
  button { padding: .5rem 1rem; }
  .transfer { border: 1px solid #ccd3e0; border-radius: 8px; padding: 1rem; margin: 1rem 0; }
  .meta { font-family: monospace; font-size: 12px; color: #555; word-break: break-all; }
  ol.steps { display: flex; list-style: none; padding: 0; gap: .25rem; flex-wrap: wrap; }
  ol.steps li { padding: .25rem .6rem; border-radius: 999px; background: #eef1f6; color: #778; }
  ol.steps li.done { background: #d8f0dc; color: #1f6b2e; }
  ol.steps li.current { background: #ffe9b8; color: #7a5200; font-weight: 600; }
  .state { font-weight: 600; }
  .error { color: #a01818; }
</style>
</head>
<body>
<h1>RustChain ⇄ Ethereum bridge</h1>
<form id="search"><input id="q" name="q" placeholder="Transaction hash, address, transfer digest (0x…) or Wormhole chain/emitter/sequence" autocomplete="off"><button>Search</button></form>
<div id="results"></div>
<script>
const STEPS = ["waiting_finality", "signing", "signed", "submitted", "completed"];
const LABEL = {
  observed: "Observed", waiting_finality: "Waiting for finality", signing: "Collecting signatures", signed: "Signed",
  submitted: "Submitted", completed: "Completed", queued: "Queued by the governor", refundable: "Refundable",
  refund_requested: "Refund requested", refunded: "Refunded", awaiting_recipient: "Waiting for the recipient to redeem",
  waiting_signatures: "Waiting for guardian signatures", skipped: "Skipped (not a transfer to RustChain)",
};
const WORMHOLE_ID = new RegExp("^[0-9]{1,5}/(0x)?[0-9a-fA-F]{64}/[0-9]{1,20}$");
const el = (tag, attrs, ...kids) => { const e = document.createElement(tag); Object.assign(e, attrs || {}); e.append(...kids); return e; };
function eta(t) {
  if (t.state === "queued" && t.releaseTime) return "releases at " + new Date(t.releaseTime * 1000).toLocaleString();
  if (t.etaSeconds === null || ["completed", "refunded"].includes(t.state)) return "";
  return "about " + t.etaSeconds + " s";
}
function render(list) {
  const out = document.getElementById("results");
  out.replaceChildren();
  if (list.length === 0) { out.append(el("p", { className: "empty", textContent: "No transfers found." })); return; }
  for (const t of list) {
    const at = STEPS.indexOf(t.state === "queued" ? "submitted" : t.state);
    const steps = el("ol", { className: "steps" }, ...STEPS.map((s, i) => el("li", {
      className: t.state === "completed" || i < at ? "done" : i === at ? "current" : "", textContent: LABEL[s] })));
    const box = el("div", { className: "transfer", id: "t-" + t.digest },
      el("div", {}, el("span", { className: "state", textContent: LABEL[t.state] || t.state }), " ",
        el("span", { className: "eta", textContent: eta(t) })),
      steps,
      el("div", { className: "meta", textContent: t.kind + " from " + t.sourceChain + " to " + t.destinationChain +
        " · amount " + t.amount + " (8 decimals) · fee " + t.fee + " · sequence " + t.sequence }),
      el("div", { className: "meta", textContent: "source tx " + t.sourceTx + (t.destinationTx ? " · destination tx " + t.destinationTx : "") }),
      el("div", { className: "meta", textContent: "digest " + t.digest }),
      t.state === "refundable" ? el("p", { className: "error", textContent:
        "This transfer cannot complete (" + (t.lastError || "asset paused") + "). Refund it with: rustchain bridge refund " + t.digest }) : "",
      t.lastError && t.state !== "refundable" ? el("p", { className: "error", textContent: "Retrying: " + t.lastError }) : "");
    out.append(box);
  }
}
function renderMessage(m) {
  const out = document.getElementById("results");
  out.replaceChildren(el("div", { className: "transfer", id: "w-" + m.id },
    el("div", {}, el("span", { className: "state", textContent: LABEL[m.state] || m.state }), " ",
      el("span", { className: "eta", textContent: eta(m) })),
    el("div", { className: "meta", textContent: "Wormhole message " + m.id }),
    m.reason ? el("p", { textContent: m.reason }) : "",
    m.lastError ? el("p", { className: "error", textContent: "Retrying: " + m.lastError }) : ""));
}
async function searchWormhole(q) {
  const path = "/api/wormhole/" + q.replace("/0x", "/");
  let r = await fetch(path);
  if (r.status === 404) { await fetch(path, { method: "POST" }); r = await fetch(path); }
  const body = await r.json();
  if (!r.ok) { document.getElementById("results").replaceChildren(el("p", { className: "error", textContent: body.error })); return; }
  if (body.transfer) render([body.transfer]); else renderMessage(body.message);
}
async function search(q) {
  if (WORMHOLE_ID.test(q)) return searchWormhole(q);
  const r = await fetch("/api/transfers?q=" + encodeURIComponent(q));
  const body = await r.json();
  if (!r.ok) { document.getElementById("results").replaceChildren(el("p", { className: "error", textContent: body.error })); return; }
  render(body.transfers);
}
let timer;
document.getElementById("search").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const q = document.getElementById("q").value.trim();
  history.replaceState(null, "", "?q=" + encodeURIComponent(q));
  clearInterval(timer);
  search(q);
  timer = setInterval(() => search(q), 2000);
});
const initial = new URLSearchParams(location.search).get("q");
if (initial) { document.getElementById("q").value = initial; search(initial); timer = setInterval(() => search(initial), 2000); }
</script>
</body>
</html>
`;
