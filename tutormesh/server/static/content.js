// Content review for teachers and admins: upload a deck, watch its draft being built, review it beside
// its slides, edit or drop, then publish or unpublish. Plain JS, every string set with textContent.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { token: sessionStorage.getItem("tm_token"), me: null, polling: null };

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401) { location.href = "/"; throw new ApiError(401, "Please sign in again."); }
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, (data && data.error && data.error.message) || `request failed (${res.status})`);
  return data;
}

function toast(text) {
  $("toast").textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { $("toast").textContent = ""; }, 6000);
}

async function guarded(box, work) {
  box.textContent = "";
  try { await work(); } catch (err) { box.textContent = err.message || "Something went wrong."; }
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "\u2013");

// --- upload and progress ----------------------------------------------------------------------
function showProgress(percent, label) {
  $("progress-box").hidden = false;
  $("progress").value = Math.round(percent);
  $("progress-label").textContent = label;
}

function upload(event) {
  event.preventDefault();
  const form = new FormData($("upload"));
  if (!form.get("cohort")) form.delete("cohort");
  $("upload-error").textContent = "";
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/v1/content/uploads");
  xhr.setRequestHeader("Authorization", `Bearer ${state.token}`);
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) showProgress((e.loaded / e.total) * 20, "Uploading\u2026"); };
  xhr.onload = () => {
    const data = JSON.parse(xhr.responseText || "null");
    if (xhr.status !== 200 && xhr.status !== 201) {
      $("progress-box").hidden = true;
      $("upload-error").textContent = (data && data.error && data.error.message) || `upload failed (${xhr.status})`;
      return;
    }
    if (xhr.status === 200) toast("This deck was uploaded before: here is its draft.");
    watch(data.id);
  };
  xhr.onerror = () => { $("upload-error").textContent = "The upload did not reach the server."; };
  xhr.send(form);
}

async function watch(jobId) {
  clearTimeout(state.polling);
  const job = await api(`/v1/content/jobs/${jobId}`);
  showProgress(20 + job.progress * 80, `${job.file_name}: ${job.stage} (${Math.round(job.progress * 100)}%)`);
  if (job.status === "ready") { await listJobs(); location.hash = `job=${jobId}`; return; }
  if (job.status === "failed") { $("upload-error").textContent = `${job.file_name}: ${job.error}`; await listJobs(); return; }
  state.polling = setTimeout(() => watch(jobId).catch((err) => { $("upload-error").textContent = err.message; }), 500);
}

async function listJobs() {
  const jobs = await api("/v1/content/jobs");
  const rows = jobs.map((j) => {
    const live = j.versions.find((v) => v.status === "published");
    return h("tr", {}, h("th", { scope: "row" }, j.file_name), h("td", {}, j.subject), h("td", {}, j.cohort || "\u2013"),
      h("td", {}, j.status === "building" ? `building (${Math.round(j.progress * 100)}%)` : j.status),
      h("td", {}, live ? `published ${when(live.published_at)}` : "not published"),
      h("td", {}, j.status === "ready" ? h("a", { href: `#job=${j.id}` }, `Review ${j.file_name}`) : j.error || ""));
  });
  $("jobs").replaceChildren(h("div", { class: "table-wrap" }, h("table", {},
    h("caption", {}, "Uploaded decks, newest first"),
    h("thead", {}, h("tr", {}, ["Deck", "Subject", "Class", "Draft", "Published", ""].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 6 }, "Nothing uploaded yet."))))));
}

// --- review -------------------------------------------------------------------------------------
function slideView(slide) {
  return h("article", { class: "slide", "aria-label": `Slide ${slide.number}` },
    h("h4", {}, `Slide ${slide.number}${slide.title ? `: ${slide.title}` : ""}`),
    slide.text ? h("p", {}, slide.text) : null,
    slide.figures.map((f) => h("p", { class: "figure" }, `[${f.kind}] ${f.alt}`)),
    slide.tables.map((t) => h("pre", {}, t)), slide.formulas.map((f) => h("p", {}, h("code", {}, f))),
    slide.notes ? h("p", { class: "figure" }, `Notes: ${slide.notes}`) : null);
}

function itemView(jobId, template, sample, box) {
  const prompt = h("textarea", { id: `p-${template.id}`, "aria-label": `Prompt of ${template.id}` });
  prompt.value = template.variants.A;
  const answer = h("input", { id: `a-${template.id}`, "aria-label": `Answer key of ${template.id}`, value: template.answer });
  const save = (e) => {
    e.preventDefault();
    guarded(box, async () => {
      const done = await api(`/v1/content/jobs/${jobId}/items/${encodeURIComponent(template.id)}`,
        { method: "PATCH", body: { prompt: prompt.value, answer: answer.value } });
      toast(`Saved and verified: ${done.sample.prompt} \u2192 ${done.sample.answer}`);
      await showReview(jobId);
    });
  };
  return h("div", { class: "item", "data-item": template.id },
    h("p", {}, h("strong", {}, `Level ${template.difficulty}: `), sample.prompt || sample.error || ""),
    h("p", { class: "sample" }, `Answer: ${sample.answer}`),
    h("details", {}, h("summary", {}, `Edit ${template.id}`),
      h("form", { onsubmit: save }, h("label", { for: prompt.id }, "Prompt (placeholders in braces)"), prompt,
        h("label", { for: answer.id }, "Answer key"), answer, h("button", { type: "submit" }, "Save and verify"))));
}

function topicView(jobId, entry, slides, samples, dropped) {
  const topic = entry.topic;
  const box = h("p", { class: "error", role: "alert" });
  const isDropped = dropped.includes(topic.slug);
  const toggle = h("button", { type: "button", class: "secondary", onclick: () => guarded(box, async () => {
    await api(`/v1/content/jobs/${jobId}/topics/${topic.slug}`, { method: "PATCH", body: { dropped: !isDropped } });
    await showReview(jobId);
  }) }, isDropped ? `Keep ${topic.title}` : `Drop ${topic.title}`);
  const example = topic.lesson.worked_example;
  return h("section", { class: `review-topic${isDropped ? " dropped" : ""}`, "data-topic": topic.slug },
    h("div", { class: "source-side" }, h("h3", {}, "From the deck"),
      entry.source_slides.map((n) => slides[n]).filter(Boolean).map(slideView)),
    h("div", { class: "draft-side" },
      h("h3", {}, `Week ${topic.week}: ${topic.title}${isDropped ? " (dropped)" : ""}`), toggle, box,
      h("h4", {}, topic.lesson.title), h("p", { class: "explanation" }, topic.lesson.explanation),
      h("p", {}, h("strong", {}, "Worked example: "), example.problem), h("ol", {}, example.steps.map((s) => h("li", {}, s))),
      h("p", {}, `Answer: ${example.answer}`),
      h("h4", {}, "Practice items"), topic.templates.map((t) => itemView(jobId, t, samples[t.id] || {}, box))));
}

async function showReview(jobId) {
  const view = await api(`/v1/content/jobs/${jobId}/draft`);
  const { draft, job } = view;
  const slides = Object.fromEntries(draft.deck.slides.map((s) => [s.number, s]));
  const box = h("p", { class: "error", role: "alert" });
  const live = job.versions.find((v) => v.status === "published");
  const cohort = h("input", { id: "publish-cohort", value: job.cohort || "", placeholder: "cohort (optional)" });
  const publish = h("form", { class: "inline-form", onsubmit: (e) => {
    e.preventDefault();
    guarded(box, async () => {
      const v = await api(`/v1/content/jobs/${jobId}/publish`, { method: "POST", body: cohort.value ? { cohort: cohort.value } : {} });
      toast(`Published ${v.topics.join(", ")}${v.assignment_id ? `; assigned to ${v.cohort}` : ""}.`);
      await Promise.all([showReview(jobId), listJobs()]);
    });
  } }, h("label", { for: "publish-cohort" }, "Class that gets the assignment"), cohort,
    h("button", { type: "submit" }, live ? "Publish again" : "Publish"));
  const unpublish = live ? h("button", { type: "button", class: "secondary", onclick: () => guarded(box, async () => {
    if (!confirm("Take this content away from students? Its assignment closes.")) return;
    await api(`/v1/content/jobs/${jobId}/unpublish`, { method: "POST" });
    toast("Unpublished.");
    await Promise.all([showReview(jobId), listJobs()]);
  }) }, "Unpublish") : null;
  $("review-body").replaceChildren(h("div", {},
    h("p", {}, `${draft.deck.file_name}: ${draft.deck.slides.length} slides became ${draft.topics.length} topics `
      + `(${draft.generator} generator) for ${draft.subject}. `,
      live ? `Published ${when(live.published_at)}.` : "Not published: students see none of it yet."),
    draft.deck.warnings.length ? h("ul", { class: "plain" }, draft.deck.warnings.map((w) => h("li", {}, `Warning: ${w}`))) : null,
    h("div", { class: "actions" }, publish, unpublish), box,
    draft.assignment ? h("p", {}, `Assignment: ${draft.assignment.title} (${draft.assignment.template_ids.length} items, due in ${draft.assignment.due_in_days} days)`) : null,
    draft.topics.map((entry) => topicView(jobId, entry, slides, view.samples, view.dropped_topics)),
    draft.dropped.length ? h("section", {}, h("h3", {}, "Left out by verification"),
      h("ul", { class: "plain" }, draft.dropped.map((d) => h("li", {}, `${d.source_slide ? `Slide ${d.source_slide}: ` : ""}${d.text} \u2013 ${d.reason}`)))) : null));
  $("review").hidden = false;
}

async function route() {
  const match = location.hash.match(/job=([0-9a-f]{32})/);
  if (match) await showReview(match[1]).catch((err) => { $("review-body").textContent = err.message; $("review").hidden = false; });
}

async function start() {
  if (!state.token) { location.href = "/"; return; }
  state.me = await api("/v1/auth/me");
  if (!["teacher", "admin"].includes(state.me.role)) { location.href = "/console"; return; }
  $("who").textContent = `Signed in as ${state.me.username} (${state.me.role})`;
  $("who").hidden = false;
  $("upload").addEventListener("submit", upload);
  window.addEventListener("hashchange", route);
  await listJobs();
  await route();
}

start().catch(() => { /* api() redirected on 401 */ });
