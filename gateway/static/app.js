// casecraft's page: start a job, follow its event stream, correct it, take it away.
// Text from notes and models is only ever set with textContent or .value, never parsed as HTML.
"use strict";

const API = "/v1/case-studies";
const MAX_NOTES_BYTES = 200000;
const MAX_LOGO_BYTES = 2000000;
const MAX_FILES = 10;
const TEXT_FILE = /\.(md|markdown|txt)$/i;
const COMPONENT_NAMES = { hero: "Hero banner", metrics: "Metrics dashboard", timeline: "Implementation timeline" };
const PROSE = [
  ["challenge", "Challenge"],
  ["solution", "Solution"],
  ["results", "Results"],
];
const REFINABLE = new Set(["title", "subtitle", "challenge", "solution", "results", "quote"]);
const TERMINAL = new Set(["done", "failed", "cancelled"]);
const STATUS_WORDS = {
  queued: "Waiting for a free slot…",
  structuring: "Reading the notes and writing the case study…",
  rendering: "Drawing the images…",
  done: "Done.",
  failed: "Failed.",
  cancelled: "Cancelled.",
};

const $ = (selector, root = document) => root.querySelector(selector);
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data-") || key.startsWith("aria-") || key === "for" || key === "role") node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
};

// ---- state -------------------------------------------------------------------------------------

const state = {
  id: null,
  job: {},            // the latest answer: case_study, images, warnings, needs_review, fidelity ...
  study: {},          // the case study as far as it has arrived
  images: {},         // component -> the latest image event
  components: ["hero", "metrics", "timeline"],
  dirty: new Set(),   // fields the person edited and has not saved
  lastEventId: "",
  stream: null,       // the AbortController of the open event stream
  startedAt: 0,
  status: "",
  attachments: [],
  timer: null,
};

// ---- the API ------------------------------------------------------------------------------------

const KEY_STORE = "casecraft:api-key";

async function api(url, options = {}) {
  // Every call to the API: with the API key when this gateway needs one (kept for this browser
  // session only). A 401 asks for the key, then the call is made again once.
  const send = () => {
    const headers = { ...(options.headers || {}) };
    const key = sessionStorage.getItem(KEY_STORE);
    if (key) headers.Authorization = `Bearer ${key}`;
    return fetch(url, { ...options, headers });
  };
  const response = await send();
  if (response.status !== 401) return response;
  const problem = await problemOf(response.clone());
  if (!(await askForKey(problem.detail))) return response;
  return send();
}

function askForKey(reason) {
  // The gateway needs a key: a small form above everything, answered once for the session.
  return new Promise((resolve) => {
    const panel = $("#key-panel");
    $("#key-reason").textContent = reason;
    panel.hidden = false;
    const input = $("#api-key");
    input.value = "";
    input.focus();
    const form = $("#key-form");
    form.onsubmit = (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      sessionStorage.setItem(KEY_STORE, key);
      panel.hidden = true;
      resolve(true);
    };
    $("#key-cancel").onclick = () => {
      panel.hidden = true;
      resolve(false);
    };
  });
}

// ---- start ---------------------------------------------------------------------------------------

function bytes(text) {
  return new TextEncoder().encode(text).length;
}

function showError(id, message) {
  const node = document.getElementById(id);
  if (!node) return;
  node.textContent = message || "";
  node.hidden = !message;
}

function clearErrors() {
  for (const node of document.querySelectorAll("#start-form .error")) showError(node.id, "");
  for (const node of document.querySelectorAll(".invalid")) node.classList.remove("invalid");
}

function checkStart() {
  // The API's own limits and messages, so a person hears the same thing before and after sending.
  const problems = [];
  const notes = $("#notes").value;
  if (!state.attachments.length) {
    if (!notes.trim()) problems.push(["notes", "notes: empty; send the consultant's notes as text"]);
    else if (bytes(notes) > MAX_NOTES_BYTES)
      problems.push(["notes", `notes: ${bytes(notes).toLocaleString("en")} bytes is over the limit of 200,000 bytes; send the notes of one engagement, without attachments`]);
  } else if (notes.trim()) {
    problems.push(["notes", "notes: send the notes as text or as files, not both; clear the box or remove the files"]);
  }
  if (state.attachments.length > MAX_FILES)
    problems.push(["notes", `notes_file: ${state.attachments.length} files is over the limit of 10; join the notes of one engagement into fewer files`]);
  const logo = $("#logo").files[0];
  if (logo) {
    if (!["image/png", "image/jpeg"].includes(logo.type))
      problems.push(["logo", `logo: ${logo.type || "this file"} is not accepted; send a PNG or JPEG`]);
    else if (logo.size > MAX_LOGO_BYTES)
      problems.push(["logo", `logo: ${logo.size.toLocaleString("en")} bytes is over 2,000,000; send a smaller logo`]);
  }
  if (!chosenComponents().length)
    problems.push(["components", "components: empty; leave it out for all three, or name at least one"]);
  return problems;
}

function chosenComponents() {
  return [...document.querySelectorAll('input[name="component"]:checked')].map((box) => box.value);
}

const FIELD_TO_ERROR = { notes: "notes-error", notes_file: "notes-error", logo: "logo-error", components: "components-error" };

function errorSlot(field) {
  const top = String(field || "").split(/[.[]/)[0];
  if (FIELD_TO_ERROR[top]) return FIELD_TO_ERROR[top];
  if (top === "options") return "options-error";
  return "form-error";
}

function showProblems(problems) {
  const bySlot = {};
  for (const [field, message] of problems) (bySlot[errorSlot(field)] ||= []).push(message);
  for (const [slot, messages] of Object.entries(bySlot)) showError(slot, messages.join(" "));
  if (bySlot["notes-error"]) $("#notes").classList.add("invalid");
  const first = document.querySelector("#start-form .error:not([hidden])");
  if (first) first.scrollIntoView({ block: "center" });
}

function retryWords(response) {
  const after = response.headers.get("Retry-After");
  if (!after) return "";
  const seconds = Number(after);
  return Number.isFinite(seconds) ? ` Try again in ${Math.max(1, Math.round(seconds))} s.` : ` Try again after ${after}.`;
}

async function problemOf(response) {
  // The API's problem+json, in words; anything else (a proxy's page) as its status.
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = {};
  }
  const detail = body.detail || `${response.status} ${response.statusText}`.trim();
  return { status: response.status, detail: detail + retryWords(response), errors: body.errors || [], body };
}

function readAsDataURL(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function startRequest() {
  const options = { fast: $("#fast").checked };
  if ($("#anonymize").checked) options.anonymize = true;
  const components = chosenComponents();
  const logo = $("#logo").files[0];
  const headers = { Prefer: "respond-async", Accept: "application/json" };
  if (state.attachments.length) {
    const form = new FormData();
    for (const file of state.attachments) form.append("notes_file", file, file.name);
    if (logo) form.append("logo", logo, logo.name);
    form.append("components", components.join(","));
    form.append("options", JSON.stringify(options));
    return api(API, { method: "POST", headers, body: form });
  }
  const body = { notes: $("#notes").value, components, options };
  if (logo) body.logo = await readAsDataURL(logo);
  headers["Content-Type"] = "application/json";
  return api(API, { method: "POST", headers, body: JSON.stringify(body) });
}

async function onGenerate(event) {
  event.preventDefault();
  clearErrors();
  const problems = checkStart();
  if (problems.length) return showProblems(problems);
  const button = $("#generate");
  button.disabled = true;
  button.textContent = "Starting…";
  try {
    const response = await startRequest();
    if (!response.ok) {
      const problem = await problemOf(response);
      const listed = problem.errors.map((e) => [e.field, `${e.field}: ${e.message}`]);
      showProblems(listed.length ? listed : [[problem.status === 413 ? "notes" : "", problem.detail]]);
      return;
    }
    const answer = await response.json();
    sessionStorage.setItem(`casecraft:${answer.id}:components`, JSON.stringify(chosenComponents()));
    location.hash = `#/case-studies/${answer.id}`;
  } catch (error) {
    showError("form-error", `The gateway could not be reached (${error.message}). Check that casecraft is running, then try again.`);
  } finally {
    button.disabled = false;
    button.textContent = "Generate";
  }
}

function addFiles(files) {
  const list = [...files];
  if (list.length === 1 && TEXT_FILE.test(list[0].name) && !state.attachments.length) {
    list[0].text().then((text) => {
      $("#notes").value = text;
    });
    return;
  }
  state.attachments.push(...list);
  renderFileList();
}

function renderFileList() {
  const ul = $("#file-list");
  ul.replaceChildren(
    ...state.attachments.map((file, index) =>
      el("li", {}, file.name, el("button", {
        type: "button",
        text: "×",
        "aria-label": `Remove ${file.name}`,
        onclick: () => {
          state.attachments.splice(index, 1);
          renderFileList();
        },
      }))
    )
  );
}

function setUpStart() {
  $("#start-form").addEventListener("submit", onGenerate);
  $("#notes-files").addEventListener("change", (event) => {
    addFiles(event.target.files);
    event.target.value = "";
  });
  const zone = $("#notes-zone");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    addFiles(event.dataTransfer.files);
  });
  $("#logo").addEventListener("change", () => {
    const file = $("#logo").files[0];
    const preview = $("#logo-preview");
    showError("logo-error", "");
    if (!file) return void (preview.hidden = true);
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
  });
}

// ---- the event stream ---------------------------------------------------------------------------

async function follow() {
  // The job's events from after the last one seen (all of them the first time); reconnects after
  // a dropped connection until the job ends. Read with fetch, so headers can be sent.
  if (state.stream) state.stream.abort();
  const controller = new AbortController();
  state.stream = controller;
  let delay = 500;
  while (!controller.signal.aborted) {
    try {
      const headers = { Accept: "text/event-stream" };
      if (state.lastEventId) headers["Last-Event-ID"] = state.lastEventId;
      const response = await api(`${API}/${state.id}/events`, { headers, signal: controller.signal });
      if (!response.ok) {
        const problem = await problemOf(response);
        jobError(response.status === 404 ? "This case study does not exist, or it has expired." : problem.detail);
        return;
      }
      delay = 500;
      const ended = await readEvents(response.body, controller.signal);
      if (ended) return;
    } catch (error) {
      if (controller.signal.aborted) return;
    }
    setProgress("Connection lost; reconnecting…");
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 8000);
  }
}

async function readEvents(body, signal) {
  // Server-sent events (the WHATWG format): blocks split by a blank line; returns true once a
  // terminal event arrived.
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let ended = false;
  while (!signal.aborted) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
    let split;
    while ((split = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, split);
      buffer = buffer.slice(split + 2);
      const message = { event: "message", data: [], id: null };
      for (const line of block.split("\n")) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const name = colon < 0 ? line : line.slice(0, colon);
        const field = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (name === "event") message.event = field;
        else if (name === "data") message.data.push(field);
        else if (name === "id") message.id = field;
      }
      if (message.id !== null) state.lastEventId = message.id;
      if (!message.data.length) continue;
      handle(message.event, JSON.parse(message.data.join("\n")));
      if (TERMINAL.has(message.event)) ended = true;
    }
  }
  return ended;
}

function handle(type, data) {
  switch (type) {
    case "status":
      state.status = data.status;
      setProgress();
      break;
    case "field_group":
      Object.assign(state.study, data.fields || {});
      renderStudy();
      break;
    case "image":
      state.images[data.component] = data;
      renderImage(data.component);
      setProgress();
      break;
    case "case_study":
      state.study = data.case_study || state.study;
      renderStudy();
      for (const name of data.changed || []) markChanged(name);
      break;
    case "warning":
      addWarning(data.message);
      break;
    case "done":
      finish(data);
      break;
    case "failed":
      state.status = "failed";
      jobError((data.problem && data.problem.detail) || "The case study could not be made.");
      setProgress();
      break;
    case "cancelled":
      state.status = "cancelled";
      setProgress();
      break;
  }
}

function finish(answer) {
  state.job = answer;
  state.status = "done";
  state.study = answer.case_study || state.study;
  for (const image of answer.images || []) state.images[image.component] = image;
  if (answer.images || answer.skipped) {
    const made = (answer.images || []).map((image) => image.component);
    const skipped = (answer.skipped || []).map((skip) => skip.component);
    state.components = [...made, ...skipped.filter((name) => !made.includes(name))];
  }
  renderStudy();
  renderImages();
  for (const skip of answer.skipped || []) renderSkipped(skip);
  $("#warnings").replaceChildren();
  for (const warning of answer.warnings || []) addWarning(warning);
  renderReview();
  renderDownloads();
  renderTimings(answer.timings);
  setEditable(true);
  setProgress();
}

// ---- rendering ----------------------------------------------------------------------------------

function setProgress(text) {
  const node = $("#progress");
  if (text) return void (node.textContent = text);
  const made = state.components.filter((name) => state.images[name]).length;
  let words = STATUS_WORDS[state.status] || "Starting…";
  if (state.status === "rendering" || (state.status === "structuring" && made))
    words = `${STATUS_WORDS[state.status]} ${made} of ${state.components.length} images ready.`;
  const seconds = ((performance.now() - state.startedAt) / 1000).toFixed(1);
  node.replaceChildren(words, " ", el("span", { class: "elapsed", text: TERMINAL.has(state.status) ? "" : `${seconds} s` }));
  $("#cancel").hidden = TERMINAL.has(state.status);
}

function jobError(message) {
  showError("job-error", message);
}

function addWarning(message) {
  $("#warnings").append(el("li", { text: message }));
}

function fieldInput(name) {
  return document.querySelector(`#study [data-field="${name}"]`);
}

function setValue(input, value) {
  if (!input || document.activeElement === input || state.dirty.has(input.dataset.field)) return;
  input.value = value == null ? "" : String(value);
  input.classList.remove("pending");
}

function renderStudy() {
  const study = state.study;
  for (const name of ["client_name", "industry", "title", "subtitle"]) setValue(fieldInput(name), study[name]);
  if (study.metrics && !state.dirty.has("metrics")) renderMetrics(study.metrics);
  if (study.phases && !state.dirty.has("phases")) renderPhases(study.phases);
  renderProse();
}

function cell(value, label, onInput) {
  const input = el("input", { value: value == null ? "" : String(value), readOnly: state.status !== "done", "aria-label": label });
  input.addEventListener("input", onInput);
  return el("td", {}, input);
}

function renderMetrics(metrics) {
  const body = $("#metrics tbody");
  if (!metrics.length) {
    body.replaceChildren(el("tr", {}, el("td", { colSpan: 4, text: "No before/after figures found in the notes." })));
    return;
  }
  const edited = () => dirty("metrics");
  body.replaceChildren(
    ...metrics.map((metric, index) =>
      el("tr", { "data-index": String(index) },
        cell(metric.label, `Metric ${index + 1}: measure`, edited),
        cell(metric.before, `Metric ${index + 1}: before`, edited),
        cell(metric.after, `Metric ${index + 1}: after`, edited),
        cell(metric.improvement, `Metric ${index + 1}: change`, edited))
    )
  );
}

function renderPhases(phases) {
  const list = $("#phases");
  if (!phases.length) return void list.replaceChildren(el("li", { text: "No phases found in the notes." }));
  const edited = () => dirty("phases");
  list.replaceChildren(
    ...phases.map((phase, index) => {
      const fields = [
        ["name", "name", el("input", { value: phase.name || "" })],
        ["period", "period", el("input", { value: phase.period || "" })],
        ["description", "description", el("textarea", { value: phase.description || "", rows: 2 })],
      ];
      const wrapper = el("div", { class: "phase", "data-index": String(index) });
      for (const [key, words, input] of fields) {
        input.dataset.key = key;
        input.setAttribute("aria-label", `Phase ${index + 1}: ${words}`);
        input.readOnly = state.status !== "done";
        input.addEventListener("input", edited);
        wrapper.append(input);
      }
      return el("li", {}, wrapper);
    })
  );
}

function renderProse() {
  const root = $("#prose");
  if (!root.childElementCount) {
    for (const [name, heading] of PROSE) root.append(proseSection(name, heading));
    root.append(quoteSection());
  }
  const study = state.study;
  for (const [name] of PROSE) setValue(fieldInput(name), study[name]);
  const quote = study.quote || {};
  for (const key of ["text", "author", "role"]) {
    const input = document.getElementById(`f-quote-${key}`);
    if (document.activeElement !== input && !state.dirty.has("quote")) input.value = quote[key] || "";
  }
}

function proseSection(name, heading) {
  const textarea = el("textarea", { id: `f-${name}`, rows: 4, readOnly: true });
  textarea.dataset.field = name;
  textarea.addEventListener("input", () => dirty(name));
  const section = el("div", { class: "section", "data-section": name },
    el("h3", {}, el("label", { for: `f-${name}`, text: heading })),
    textarea);
  section.append(refineControl(name));
  return section;
}

function quoteSection() {
  const section = el("div", { class: "section", "data-section": "quote" }, el("h3", { text: "Quote" }));
  for (const [key, label, tag] of [["text", "Quotation", "textarea"], ["author", "Who said it", "input"], ["role", "Their role", "input"]]) {
    const input = el(tag, { id: `f-quote-${key}`, readOnly: true });
    input.addEventListener("input", () => dirty("quote"));
    section.append(el("label", { for: input.id, text: label }), input);
  }
  section.append(refineControl("quote"));
  return section;
}

function refineControl(name) {
  const input = el("input", { id: `refine-${name}`, placeholder: 'e.g. "shorter, and lead with the cost saving"' });
  const button = el("button", { type: "button", class: "button secondary", text: "Refine" });
  const note = el("p", { class: "off", hidden: true });
  const form = el("div", { class: "refine", "data-refine": name },
    el("label", { for: input.id, class: "visually-hidden", text: `How should the ${name} change?` }),
    input, button, note);
  button.addEventListener("click", () => refine(name, input, button, note));
  return form;
}

function updateRefineControls() {
  // The local extractor cannot follow free-text instructions: say so instead of offering it.
  const provider = (state.job.usage || {}).provider || "";
  const off = provider === "local";
  for (const form of document.querySelectorAll("[data-refine]")) {
    const [input, button, note] = [$("input", form), $("button", form), $(".off", form)];
    input.disabled = button.disabled = off || state.status !== "done";
    note.hidden = !off;
    note.textContent = off ? "Refining needs an LLM provider (CASECRAFT_STRUCTURER_PROVIDERS); edit the text and save instead." : "";
  }
}

async function refine(name, input, button, note) {
  const instruction = input.value.trim();
  if (!instruction) return void ((note.hidden = false), (note.textContent = "Say how it should change."));
  button.disabled = true;
  note.hidden = false;
  note.textContent = "Rewriting…";
  const response = await api(`${API}/${state.id}/refine`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ section: name, instruction }),
  });
  button.disabled = false;
  if (!response.ok) return void (note.textContent = (await problemOf(response)).detail);
  note.textContent = "Rewritten.";
  input.value = "";
  const answer = await response.json().catch(() => null);
  if (answer && answer.case_study) {
    state.study = answer.case_study;
    state.dirty.delete(name);
    renderStudy();
  }
  follow();
}

function renderImages() {
  const root = $("#images");
  const wanted = state.components;
  for (const figure of [...root.children]) if (!wanted.includes(figure.dataset.component)) figure.remove();
  for (const name of wanted) renderImage(name);
}

function imageFigure(name) {
  let figure = document.querySelector(`#images [data-component="${name}"]`);
  if (!figure) {
    figure = el("figure", { "data-component": name });
    $("#images").append(figure);
  }
  return figure;
}

function renderImage(name) {
  if (!state.components.includes(name)) state.components.push(name);
  const figure = imageFigure(name);
  const image = state.images[name];
  const label = COMPONENT_NAMES[name] || name;
  if (!image || image.status === "pending") {
    const slot = el("div", { class: "slot", role: "img", "aria-label": `${label}: being drawn` }, `Drawing the ${label.toLowerCase()}…`);
    figure.replaceChildren(slot, el("figcaption", {}, el("span", { text: label })));
    figure.dataset.waitingSince = String(performance.now());
    return;
  }
  const ok = image.status === "done" || image.status === "ok";
  if (!ok) {
    const retry = el("button", { type: "button", class: "button secondary", text: "Try again" });
    retry.addEventListener("click", () => regenerate(name));
    figure.replaceChildren(
      el("div", { class: "slot failed", role: "img", "aria-label": `${label}: failed` }, `${label} failed: ${image.error || "no reason given"}`),
      el("figcaption", {}, el("span", { text: label }), retry)
    );
    return;
  }
  const src = image.url || image.data_url;
  const picture = el("img", { src, alt: `${label} for ${state.study.title || "the case study"}`, width: image.width || 1600, height: image.height || 900 });
  const again = el("button", { type: "button", class: "link-button", text: "Regenerate" });
  again.addEventListener("click", () => regenerate(name));
  const download = el("a", { href: src, download: `${name}.png`, text: "Download" });
  const source = image.cache_hit ? "from the cache" : image.provider ? `by ${image.provider}` : "";
  figure.replaceChildren(picture, el("figcaption", {}, el("span", { text: `${label} ${source}`.trim() }), el("span", {}, download, " · ", again)));
}

function renderSkipped(skip) {
  const figure = imageFigure(skip.component);
  const label = COMPONENT_NAMES[skip.component] || skip.component;
  figure.replaceChildren(
    el("div", { class: "slot", role: "img", "aria-label": `${label}: not made` }, `No ${label.toLowerCase()}: ${skip.reason}`),
    el("figcaption", {}, el("span", { text: label }))
  );
}

async function regenerate(name) {
  state.images[name] = { status: "pending" };
  renderImage(name);
  state.status = "rendering";
  setProgress();
  const response = await api(`${API}/${state.id}/images/${name}`, { method: "POST", headers: { Accept: "application/json" } });
  if (!response.ok) {
    state.images[name] = { status: "failed", error: (await problemOf(response)).detail };
    renderImage(name);
    return;
  }
  follow();
}

function markChanged(name) {
  const input = fieldInput(name);
  if (input) input.classList.add("changed");
}

function renderReview() {
  for (const node of document.querySelectorAll(".review-note")) node.remove();
  for (const node of document.querySelectorAll(".needs-review")) node.classList.remove("needs-review");
  const notes = [];
  for (const item of state.job.needs_review || []) notes.push([item.field, `Check this: ${item.reason}`]);
  for (const item of (state.job.fidelity || {}).untraced || [])
    notes.push([item.field, `“${item.text}” is not in the notes: check the number before publishing.`]);
  for (const [field, message] of notes) {
    const top = String(field).split(/[.[]/)[0];
    const target =
      fieldInput(top) ||
      document.querySelector(`[data-section="${top}"]`) ||
      (top === "metrics" ? $("#metrics") : top === "phases" ? $("#phases") : null);
    if (!target) continue;
    target.classList.add("needs-review");
    target.insertAdjacentElement("afterend", el("p", { class: "review-note", text: message }));
  }
}

function renderDownloads() {
  const json = new Blob([JSON.stringify(state.job, null, 2)], { type: "application/json" });
  const links = [
    el("a", { href: URL.createObjectURL(json), download: `case-study-${state.id}.json`, text: "JSON" }),
  ];
  for (const [format, words] of [["pdf", "PDF one-pager"], ["pptx", "PowerPoint deck"], ["html", "Web page"], ["md", "Markdown"], ["card", "Social card"], ["zip", "Everything (zip)"]]) {
    const link = el("a", { href: `${API}/${state.id}/export/${format}`, download: "", text: words });
    link.addEventListener("click", (event) => download(event, link));
    links.push(link);
  }
  for (const image of state.job.images || [])
    if (image.url) links.push(el("a", { href: image.url, download: `${image.component}.png`, text: `${COMPONENT_NAMES[image.component]} (PNG)` }));
  $("#downloads ul").replaceChildren(...links.map((link) => el("li", {}, link)));
  $("#downloads").hidden = false;
}

async function download(event, link) {
  // Without a key a plain link works; with one, the file is fetched with it and saved from memory.
  if (!sessionStorage.getItem(KEY_STORE)) return;
  event.preventDefault();
  const response = await api(link.href);
  if (!response.ok) return void jobError((await problemOf(response)).detail);
  const name = (response.headers.get("Content-Disposition") || "").match(/filename="?([^";]+)"?/);
  const saved = el("a", { href: URL.createObjectURL(await response.blob()), download: name ? name[1] : "" });
  saved.click();
  URL.revokeObjectURL(saved.href);
}

function renderTimings(timings) {
  const root = $("#waterfall");
  if (!timings || !timings.total_ms) return;
  const total = timings.total_ms;
  const rows = (timings.steps || []).map((step) => {
    const bar = el("div", { class: `bar${step.critical ? " critical" : ""}${step.error ? " failed" : ""}` });
    bar.style.left = `${(step.start_ms / total) * 100}%`;
    bar.style.width = `${Math.max((step.duration_ms / total) * 100, 0.3)}%`;
    const name = el("div", { class: "name", text: step.name, title: `${step.name} (${step.service})` });
    name.style.paddingLeft = `${(step.depth || 0) * 0.75}rem`;
    return el("div", { class: "row" }, name, el("div", { class: "track", "aria-hidden": "true" }, bar), el("div", { class: "ms", text: `${step.duration_ms.toFixed(1)} ms` }));
  });
  root.replaceChildren(el("p", { text: `${total.toFixed(1)} ms in all, ${rows.length} steps.` }), ...rows);
  $("#timings").hidden = false;
}

// ---- correcting ---------------------------------------------------------------------------------

function dirty(name) {
  state.dirty.add(name);
  $("#study").classList.add("dirty");
  $("#save").disabled = false;
  $("#save-status").textContent = "Unsaved changes.";
}

function setEditable(on) {
  for (const input of document.querySelectorAll("#study input, #study textarea")) {
    if (input.closest("[data-refine]")) continue;
    input.readOnly = !on;
  }
  updateRefineControls();
}

function collectPatch() {
  const patch = {};
  for (const name of state.dirty) {
    if (name === "metrics") {
      const before = state.study.metrics || [];
      patch.metrics = [...document.querySelectorAll("#metrics tbody tr[data-index]")].map((row) => {
        const [label, was, now, change] = [...row.querySelectorAll("input")].map((input) => input.value);
        const old = before[Number(row.dataset.index)] || {};
        const metric = { ...old, label, before: was, after: now, improvement: change };
        // Numbers read from the old text no longer hold when the text changed.
        if (was !== old.before) delete metric.before_value;
        if (now !== old.after) delete metric.after_value;
        return metric;
      });
    } else if (name === "phases") {
      patch.phases = [...document.querySelectorAll("#phases .phase")].map((phase) => {
        const out = {};
        for (const input of phase.querySelectorAll("[data-key]")) out[input.dataset.key] = input.value;
        return out;
      });
    } else if (name === "quote") {
      patch.quote = Object.fromEntries(["text", "author", "role"].map((key) => [key, document.getElementById(`f-quote-${key}`).value]));
    } else {
      patch[name] = fieldInput(name).value;
    }
  }
  return patch;
}

async function save(event) {
  event.preventDefault();
  if (!state.dirty.size) return;
  const status = $("#save-status");
  for (const node of document.querySelectorAll("#study .error")) node.remove();
  status.textContent = "Saving…";
  $("#save").disabled = true;
  const response = await api(`${API}/${state.id}`, {
    method: "PATCH",
    headers: { "Content-Type": "application/merge-patch+json", Accept: "application/json" },
    body: JSON.stringify({ case_study: collectPatch() }),
  });
  if (!response.ok) {
    const problem = await problemOf(response);
    status.textContent = problem.detail;
    for (const error of problem.errors) {
      const top = String(error.field || "").replace(/^case_study\./, "").split(/[.[]/)[0];
      const target = fieldInput(top) || document.querySelector(`[data-section="${top}"]`);
      if (target) target.insertAdjacentElement("afterend", el("p", { class: "error", text: `${error.field}: ${error.message}` }));
    }
    $("#save").disabled = false;
    return;
  }
  const answer = await response.json().catch(() => ({}));
  state.dirty.clear();
  $("#study").classList.remove("dirty");
  if (answer.case_study) state.study = answer.case_study;
  status.textContent = `Saved${answer.version ? ` as version ${answer.version}` : ""}. Images whose fields changed are being redrawn.`;
  renderStudy();
  follow();
}

// ---- the job view -------------------------------------------------------------------------------

function resetJob(id) {
  if (state.stream) state.stream.abort();
  Object.assign(state, { id, job: {}, study: {}, images: {}, dirty: new Set(), lastEventId: "", status: "", startedAt: performance.now() });
  const stored = sessionStorage.getItem(`casecraft:${id}:components`);
  state.components = stored ? JSON.parse(stored) : ["hero", "metrics", "timeline"];
  $("#images").replaceChildren();
  $("#prose").replaceChildren();
  $("#warnings").replaceChildren();
  $("#metrics tbody").replaceChildren();
  $("#phases").replaceChildren();
  for (const input of document.querySelectorAll("#study [data-field]")) {
    input.value = "";
    input.classList.add("pending");
  }
  showError("job-error", "");
  $("#downloads").hidden = $("#timings").hidden = true;
  $("#save").disabled = true;
  $("#save-status").textContent = "";
  renderProse();
  renderImages();
  setEditable(false);
}

function route() {
  const match = location.hash.match(/^#\/case-studies\/([A-Za-z0-9_-]+)$/);
  $("#start").hidden = Boolean(match);
  $("#job").hidden = !match;
  if (!match) {
    if (state.stream) state.stream.abort();
    return;
  }
  if (match[1] !== state.id) {
    resetJob(match[1]);
    setProgress("Connecting…");
    follow();
  }
}

function setUpJob() {
  $("#study").addEventListener("submit", save);
  for (const input of document.querySelectorAll("#study [data-field]"))
    input.addEventListener("input", () => dirty(input.dataset.field));
  $("#copy-link").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      setProgress("Link copied.");
    } catch {
      setProgress(`Copy this link: ${location.href}`);
    }
  });
  $("#cancel").addEventListener("click", async () => {
    const response = await api(`${API}/${state.id}`, { method: "DELETE" });
    if (!response.ok) jobError((await problemOf(response)).detail);
  });
  state.timer = setInterval(() => {
    if (!$("#job").hidden && !TERMINAL.has(state.status) && state.status) setProgress();
    for (const figure of document.querySelectorAll("#images figure[data-waiting-since]")) {
      const slot = $(".slot", figure);
      if (!slot || !slot.textContent.startsWith("Drawing")) continue;
      const seconds = ((performance.now() - Number(figure.dataset.waitingSince)) / 1000).toFixed(0);
      const label = (COMPONENT_NAMES[figure.dataset.component] || "image").toLowerCase();
      slot.textContent = `Drawing the ${label}… ${seconds} s`;
    }
  }, 500);
}

document.addEventListener("DOMContentLoaded", () => {
  setUpStart();
  setUpJob();
  window.addEventListener("hashchange", route);
  route();
});
