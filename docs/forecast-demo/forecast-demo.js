// Runs ctwiz_forecast.wasm (built by build.sh) and renders the Recommender
// table. The module's ABI: ctwiz_input(len) -> pointer to write the request
// JSON at; ctwiz_forecast() -> length of the answer; ctwiz_output() -> its
// pointer. Query parameters (dob, sex, as_of, doses=DATE:CVX,DATE:CVX) fill
// the form and forecast at once.
"use strict";

let engine = null;

async function loadEngine() {
  const response = await fetch("ctwiz_forecast.wasm");
  if (!response.ok) throw new Error("ctwiz_forecast.wasm not found: run build.sh first");
  const { instance } = await WebAssembly.instantiate(await response.arrayBuffer(), {});
  return instance.exports;
}

function forecast(request) {
  const bytes = new TextEncoder().encode(JSON.stringify(request));
  const at = engine.ctwiz_input(bytes.length);
  new Uint8Array(engine.memory.buffer, at, bytes.length).set(bytes);
  const len = engine.ctwiz_forecast();
  const out = new Uint8Array(engine.memory.buffer, engine.ctwiz_output(), len);
  const answer = JSON.parse(new TextDecoder().decode(out));
  if (answer.error) throw new Error(answer.error);
  return answer.ok;
}

function parseDoses(text) {
  const doses = [];
  text.split(/\n|,/).map((l) => l.trim()).filter((l) => l).forEach((line, i) => {
    const [date, cvx] = line.split(/[\s:]+/);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date || "") || !cvx) {
      throw new Error(`dose line ${i + 1} ("${line}"): expected "YYYY-MM-DD CVX"`);
    }
    doses.push({ date, cvx });
  });
  return doses;
}

const STATUS = {
  NotComplete: "Not Complete", Complete: "Complete", Immune: "Immune", AgedOut: "Aged Out",
  Contraindicated: "Contraindicated", NotRecommended: "Not Recommended",
};

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text == null ? "-" : String(text);
  row.appendChild(td);
}

function render(result, asOf) {
  const out = document.getElementById("out");
  out.textContent = "";
  const table = document.createElement("table");
  table.className = "recommender";
  const head = table.createTHead().insertRow();
  ["Vaccine group", "Status", "Dose", "Earliest", "Recommended", "Past due", "Latest", "Vaccines"]
    .forEach((h) => { const th = document.createElement("th"); th.textContent = h; head.appendChild(th); });
  const body = table.createTBody();
  for (const g of result.vaccine_groups) {
    if (g.status === "NotRecommended") continue;
    const row = body.insertRow();
    const f = g.forecast;
    if (f && f.past_due && f.past_due <= asOf) row.className = "overdue";
    else if (f && f.recommended <= asOf) row.className = "due";
    cell(row, g.vaccine_group);
    cell(row, STATUS[g.status] || g.status);
    cell(row, f && f.dose_number);
    cell(row, f && f.earliest);
    cell(row, f && f.recommended);
    cell(row, f && f.past_due);
    cell(row, f && f.latest);
    cell(row, f ? f.vaccines.map((v) => `${v.vaccine_type} (${v.cvx})`).join(", ") : "");
  }
  out.appendChild(table);
  if (result.unknown_vaccines.length) {
    const p = document.createElement("p");
    p.id = "unknown";
    p.textContent = `Unknown CVX on dose line(s): ${result.unknown_vaccines.map((i) => i + 1).join(", ")}`;
    out.appendChild(p);
  }
}

function run() {
  const error = document.getElementById("error");
  error.textContent = "";
  try {
    const form = document.getElementById("patient");
    const asOf = form.as_of.value;
    const result = forecast({
      dob: form.dob.value, sex: form.sex.value, as_of: asOf,
      doses: parseDoses(form.doses.value), observations: [],
    });
    render(result, asOf);
    document.getElementById("status").textContent = `Forecast as of ${asOf}.`;
  } catch (e) {
    error.textContent = e.message;
  }
  document.body.dataset.state = "done";
}

window.addEventListener("DOMContentLoaded", async () => {
  const form = document.getElementById("patient");
  const q = new URLSearchParams(location.search);
  form.as_of.value = q.get("as_of") || new Date().toISOString().slice(0, 10);
  if (q.get("dob")) form.dob.value = q.get("dob");
  if (q.get("sex")) form.sex.value = q.get("sex");
  if (q.get("doses")) form.doses.value = q.get("doses").split(",").map((d) => d.replace(":", " ")).join("\n");
  form.addEventListener("submit", (e) => { e.preventDefault(); run(); });
  try {
    engine = await loadEngine();
    document.getElementById("status").textContent = "Engine ready.";
    if (q.get("dob")) run();
  } catch (e) {
    document.getElementById("error").textContent = e.message;
    document.body.dataset.state = "done";
  }
});
