// dsac-asr web page. Every request goes to the JSON API with the key from session
// storage; every string from the service (file names, transcripts, errors) is put
// into the page with textContent, never parsed as HTML.
"use strict";

const KEY_NAME = "dsac-asr.key";
const POLL_MS = 2000;
const LOW_CONFIDENCE = 0.6;
const state = { jobs: new Map(), open: null, audioUrl: null, pollTimer: null };
const $ = (id) => document.getElementById(id);

function apiKey() { return sessionStorage.getItem(KEY_NAME) || ""; }

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else if (name.startsWith("data-") || name.startsWith("aria-") || name === "role") node.setAttribute(name, value);
    else node[name] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

function say(node, message, kind = "") {
  node.textContent = message;
  node.className = kind;
}

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  headers.set("Authorization", "Bearer " + apiKey());
  const response = await fetch(path, { ...options, headers });
  if (!response.ok) {
    let message = response.status + " " + response.statusText;
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) message = body.error.message;
    } catch (_) { /* not JSON */ }
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return response;
}

// --- the key -----------------------------------------------------------------------

function useKey(event) {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (!key) { say($("key-status"), "Enter a key first.", "error"); return; }
  sessionStorage.setItem(KEY_NAME, key);
  $("api-key").value = "";
  start();
}

function forgetKey() {
  sessionStorage.removeItem(KEY_NAME);
  stopPolling();
  state.jobs.clear();
  $("job-list").replaceChildren();
  $("jobs-empty").hidden = false;
  closeTranscript();
  say($("key-status"), "Key forgotten.");
}

async function start() {
  if (!apiKey()) { say($("key-status"), "No key yet."); return; }
  try {
    const models = await (await api("/v1/models")).json();
    const installed = models.data.filter((m) => m.engine !== "alias");
    say($("key-status"), "Key accepted: " + installed.length + " models available.", "ok");
    fillDomains(models.data);
    await refreshJobs();
    startPolling();
  } catch (error) {
    say($("key-status"), "The key was not accepted: " + error.message, "error");
  }
}

function fillDomains(models) {
  const domains = new Set(models.flatMap((m) => m.domains || []));
  $("domain-list").replaceChildren(...[...domains].sort().map((d) => el("option", { value: d })));
}

// --- submitting ----------------------------------------------------------------------

function options() {
  const opts = {
    language: $("language").value, band: $("band").value, channels: $("channels").value,
    diarize: $("diarize").checked || $("speakers").value !== "",
    punctuate: $("punctuate").checked, private: $("private").checked,
  };
  const domain = $("domain").value.trim();
  if (domain) opts.domain = domain;
  if ($("speakers").value !== "") opts.speakers = Number($("speakers").value);
  return opts;
}

async function submit(event) {
  event.preventDefault();
  const status = $("submit-status");
  if (!apiKey()) { say(status, "Enter an API key first.", "error"); return; }
  const files = [...$("files").files];
  const url = $("url").value.trim();
  if (!files.length && !url) { say(status, "Choose a file or give a URL.", "error"); return; }
  $("submit-button").disabled = true;
  const opts = options();
  const made = [];
  const failed = [];
  for (const file of files) {
    say(status, "Uploading " + file.name + "…");
    const form = new FormData();
    form.append("file", file, file.name);
    for (const [name, value] of Object.entries(opts)) form.append(name, String(value));
    try { made.push(await (await api("/v1/jobs", { method: "POST", body: form })).json()); }
    catch (error) { failed.push(file.name + ": " + error.message); }
  }
  if (url) {
    const body = JSON.stringify({ ...opts, source: { url } });
    const headers = { "Content-Type": "application/json" };
    try { made.push(await (await api("/v1/jobs", { method: "POST", body, headers })).json()); }
    catch (error) { failed.push(url + ": " + error.message); }
  }
  $("submit-button").disabled = false;
  const summary = made.length + " job(s) queued." + (failed.length ? " Refused: " + failed.join("; ") : "");
  say(status, summary, failed.length ? "error" : "ok");
  if (made.length) { $("submit-form").reset(); await refreshJobs(); startPolling(); }
}

// --- the job list --------------------------------------------------------------------

function jobName(job) {
  return job.source.filename || job.source.url || job.source.key || job.id;
}

function startPolling() {
  const poll = () => { if (!document.hidden) refreshJobs(); };  // a hidden tab waits
  if (state.pollTimer === null) state.pollTimer = setInterval(poll, POLL_MS);
}

function stopPolling() {
  clearInterval(state.pollTimer);
  state.pollTimer = null;
}

async function refreshJobs() {
  if (!apiKey()) return;
  let page;
  try { page = await (await api("/v1/jobs?limit=50")).json(); }
  catch (error) { say($("key-status"), "Could not list jobs: " + error.message, "error"); return; }
  const list = $("job-list");
  const seen = new Set();
  for (const job of page.jobs) {
    seen.add(job.id);
    const before = state.jobs.get(job.id);
    if (before && before.job.status !== job.status) announce(job);
    const row = before ? before.row : makeRow(job);
    state.jobs.set(job.id, { job, row });
    updateRow(row, job);
    list.append(row);  // keeps the API's order, newest first
  }
  for (const [id, entry] of state.jobs) {
    if (!seen.has(id)) { entry.row.remove(); state.jobs.delete(id); }
  }
  $("jobs-empty").hidden = page.jobs.length > 0;
}

function announce(job) {
  $("jobs-live").textContent = jobName(job) + ": " + job.status;
}

function makeRow(job) {
  const name = el("span", { class: "name" });
  const progress = el("progress", { max: 1, value: 0 });
  const status = el("span", { class: "status" });
  const open = el("button", { type: "button", text: "Open" });
  const remove = el("button", { type: "button", text: "Delete" });
  open.addEventListener("click", () => openTranscript(job.id));
  remove.addEventListener("click", () => deleteJob(job.id));
  const row = el("li", { class: "job", "data-job-id": job.id }, name, el("div", { class: "actions" }, open, remove), progress, status);
  row.parts = { name, progress, status, open, remove };
  return row;
}

function updateRow(row, job) {
  const { name, progress, status, open, remove } = row.parts;
  const percent = Math.round(job.progress * 100);
  name.textContent = jobName(job);
  progress.value = job.progress;
  progress.setAttribute("aria-label", "Progress of " + jobName(job));
  progress.setAttribute("aria-valuetext", percent + "%");
  let text = job.status + (job.status === "running" ? " · " + percent + "%" : "");
  if (job.duration_s) text += " · " + formatTime(job.duration_s) + " of audio";
  if (job.error) text += " · " + job.error.code + ": " + job.error.message;
  status.textContent = text;
  status.className = "status status-" + job.status;
  open.disabled = job.status !== "succeeded";
  open.setAttribute("aria-label", "Open the transcript of " + jobName(job));
  remove.setAttribute("aria-label", "Delete " + jobName(job));
}

async function deleteJob(id) {
  const entry = state.jobs.get(id);
  if (!entry || !confirm("Delete " + jobName(entry.job) + " and its audio and transcript?")) return;
  try { await api("/v1/jobs/" + encodeURIComponent(id), { method: "DELETE" }); }
  catch (error) { say($("submit-status"), "Could not delete: " + error.message, "error"); return; }
  if (state.open && state.open.id === id) closeTranscript();
  await refreshJobs();
}

// --- the transcript ------------------------------------------------------------------

function formatTime(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h ? 2 : 1, "0");
  const ss = String(s % 60).padStart(2, "0");
  return (h ? h + ":" : "") + mm + ":" + ss;
}

function closeTranscript() {
  state.open = null;
  $("transcript-section").hidden = true;
  $("transcript").replaceChildren();
  setAudio(null);
}

async function openTranscript(id) {
  const job = (await (await api("/v1/jobs/" + encodeURIComponent(id))).json());
  state.open = job;
  const section = $("transcript-section");
  section.hidden = false;
  $("transcript-heading").textContent = "Transcript: " + jobName(job);
  const meta = [job.model, job.duration_s ? formatTime(job.duration_s) + " of audio" : null,
    job.options.language].filter(Boolean);
  $("transcript-meta").textContent = meta.join(" · ");
  $("transcript").replaceChildren(el("p", { text: "Loading…" }));
  $("transcript-heading").focus();
  try {
    const result = await (await api("/v1/jobs/" + encodeURIComponent(id) + "/transcript?format=json")).json();
    renderTranscript(result);
  } catch (error) {
    $("transcript").replaceChildren(el("p", { class: "error", text: "Could not load: " + error.message }));
  }
  loadAudio(job);
}

function wordsOf(result) {
  return (result.results || []).flatMap((r) => (r.alternatives && r.alternatives[0] ? r.alternatives[0].words : []));
}

function turnsOf(words) {
  const turns = [];
  for (const word of words) {
    const last = turns[turns.length - 1];
    const gap = last ? word.startTime - last.words[last.words.length - 1].endTime : 0;
    if (last && last.speaker === (word.speaker || null) && gap < 2.0) last.words.push(word);
    else turns.push({ speaker: word.speaker || null, words: [word] });
  }
  return turns;
}

function renderTranscript(result) {
  const words = wordsOf(result);
  const box = $("transcript");
  if (!words.length) { box.replaceChildren(el("p", { text: "No speech was recognised." })); return; }
  const speakers = [];
  for (const w of words) if (w.speaker && !speakers.includes(w.speaker)) speakers.push(w.speaker);
  box.replaceChildren(...turnsOf(words).map((turn) => renderTurn(turn, speakers)));
  box.querySelector(".word").tabIndex = 0;  // one tab stop; arrow keys move between words
}

function wordKeys(event) {
  const word = event.target.closest(".word");
  if (!word) return;
  const all = [...$("transcript").querySelectorAll(".word")];
  const at = all.indexOf(word);
  const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
  if (step) {
    const next = all[Math.min(Math.max(at + step, 0), all.length - 1)];
    word.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
    event.preventDefault();
  } else if (event.key === "Enter" || event.key === " ") {
    seek(Number(word.dataset.start));
    event.preventDefault();
  }
}

function renderTurn(turn, speakers) {
  const index = turn.speaker ? speakers.indexOf(turn.speaker) % 8 : 7;
  const start = turn.words[0].startTime;
  const when = el("button", { type: "button", class: "when", text: formatTime(start) });
  when.setAttribute("aria-label", "Play from " + formatTime(start));
  when.addEventListener("click", () => seek(start));
  const head = el("div");
  if (turn.speaker) head.append(el("span", { class: "who", text: "Speaker " + turn.speaker }));
  head.append(when);
  const text = el("p");
  turn.words.forEach((word, i) => {
    if (i) text.append(" ");
    text.append(renderWord(word));
  });
  const props = { class: "turn speaker-" + index };
  if (turn.speaker) props["data-speaker"] = turn.speaker;
  return el("div", props, head, text);
}

function renderWord(word) {
  const low = word.confidence < LOW_CONFIDENCE;
  const span = el("span", { class: "word" + (low ? " low" : ""), text: word.word, tabIndex: -1 });
  span.dataset.start = word.startTime;
  span.dataset.end = word.endTime;
  span.title = formatTime(word.startTime) + " · confidence " + Math.round(word.confidence * 100) + "%";
  span.addEventListener("click", () => seek(word.startTime));
  return span;
}

function seek(seconds) {
  const player = $("player");
  if (!player.src) return;
  player.currentTime = seconds;
  player.play().catch(() => { /* autoplay refused: the position is still set */ });
}

function highlightPlaying() {
  const t = $("player").currentTime;
  for (const node of document.querySelectorAll(".word.playing")) node.classList.remove("playing");
  for (const node of document.querySelectorAll(".word")) {
    if (Number(node.dataset.start) <= t && t < Number(node.dataset.end)) { node.classList.add("playing"); break; }
  }
}

function setAudio(blob) {
  const player = $("player");
  if (state.audioUrl) URL.revokeObjectURL(state.audioUrl);
  state.audioUrl = blob ? URL.createObjectURL(blob) : null;
  if (state.audioUrl) { player.src = state.audioUrl; player.hidden = false; }
  else { player.removeAttribute("src"); player.hidden = true; }
}

async function loadAudio(job) {
  setAudio(null);
  const status = $("audio-status");
  say(status, "Loading the audio…");
  try {
    const blob = await (await api("/v1/jobs/" + encodeURIComponent(job.id) + "/audio")).blob();
    if (!state.open || state.open.id !== job.id) return;
    setAudio(blob);
    say(status, "");
  } catch (error) {
    say(status, "No audio to play: " + error.message, error.status === 410 || error.status === 404 ? "" : "error");
  }
}

async function download(format) {
  const job = state.open;
  if (!job) return;
  const status = $("audio-status");
  try {
    const response = await api("/v1/jobs/" + encodeURIComponent(job.id) + "/transcript?format=" + format);
    const blob = await response.blob();
    const stem = jobName(job).replace(/^.*[\\/]/, "").replace(/\.[^.]*$/, "") || job.id;
    const link = el("a", { href: URL.createObjectURL(blob), download: stem + "." + format });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  } catch (error) {
    say(status, "Could not download " + format + ": " + error.message, "error");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("key-form").addEventListener("submit", useKey);
  $("forget-key").addEventListener("click", forgetKey);
  $("submit-form").addEventListener("submit", submit);
  $("refresh-jobs").addEventListener("click", refreshJobs);
  $("player").addEventListener("timeupdate", highlightPlaying);
  $("transcript").addEventListener("keydown", wordKeys);
  $("player").hidden = true;
  for (const button of document.querySelectorAll("button.download")) {
    button.addEventListener("click", () => download(button.dataset.format));
  }
  start();
});
