// TutorMesh web chat: plain JS, no build step. Everything shown comes from the HTTP API.
"use strict";

const $ = (id) => document.getElementById(id);
const MAX_CHARS = 2000; // the API's max_message_chars: the page says so instead of cutting text off
const state = { token: sessionStorage.getItem("tm_token"), thread: null, busy: false, lastId: 0, watching: null,
                shown: new Set(), quiz: null, username: "" };

class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    Object.assign(this, { status, code, retryAfter });
  }
}

async function api(path, { method = "GET", body, form, accept = "application/json", signal } = {}) {
  const headers = { Accept: accept };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  let payload;
  if (form) { payload = new URLSearchParams(form); }
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  const res = await fetch(path, { method, headers, body: payload, signal });
  if (!res.ok) {
    let error = { code: "error", message: `request failed (${res.status})` };
    try { error = (await res.json()).error || error; } catch (_) { /* not JSON */ }
    if (res.status === 401 && path !== "/v1/auth/token") signOut("Your session ended: please sign in again.");
    throw new ApiError(res.status, error.code, error.message, res.headers.get("Retry-After"));
  }
  return accept === "application/json" ? res.json() : res;
}

// --- the page's own text in the student's language (GET /v1/page-text/{language}: the replies' catalogue) ---
const pageText = { language: "", messages: {}, supports: {} };

function t(key, slots = {}) {
  const template = pageText.messages[key] || key;
  return template.replace(/\{([a-z_]+)\}/g, (m, name) => (name in slots ? String(slots[name]) : m));
}

// True when the language changed (the caller re-renders what it shows).
async function loadPageText(language) {
  if (!language || language === pageText.language) return false;
  try { Object.assign(pageText, await api(`/v1/page-text/${language}`)); } catch (err) { return false; }
  document.documentElement.lang = pageText.language;
  for (const el of document.querySelectorAll("[data-text]")) el.textContent = t(el.dataset.text);
  for (const el of document.querySelectorAll("[data-placeholder]")) el.placeholder = t(el.dataset.placeholder);
  if (state.username) $("who").textContent = t("page_signed_in", { name: state.username });
  checkLength();  // the character count in the new language
  return true;
}

// --- Markdown: marked renders, DOMPurify sanitises; raw HTML from the model is shown as text ------
let markdown = null;
function renderMarkdown(el, text) {
  if (!markdown && window.marked && window.DOMPurify) {
    markdown = new window.marked.Marked({ gfm: true, breaks: true });
    const escape = (s) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
    markdown.use({ renderer: { html: (token) => escape(token.raw || token.text || "") } });
    window.DOMPurify.addHook("afterSanitizeAttributes", (node) => {
      if (node.tagName === "A") { node.setAttribute("rel", "noopener noreferrer nofollow"); node.setAttribute("target", "_blank"); }
    });
  }
  if (!markdown) { el.textContent = text; return; }
  el.innerHTML = window.DOMPurify.sanitize(markdown.parse(text), {
    ALLOWED_TAGS: ["p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4",
                   "table", "thead", "tbody", "tr", "th", "td", "a", "hr", "del"],
    ALLOWED_ATTR: ["href", "title"],
  });
}

// --- rendering --------------------------------------------------------------------------
function scrollToEnd() { $("log").scrollTop = $("log").scrollHeight; }

function addMessage(role, text, author) {
  document.querySelector("#log .empty")?.remove();
  const div = document.createElement("div");
  div.className = `msg ${role}`;
  const who = document.createElement("span");
  who.className = "who-said";
  if (role === "tutor") {
    who.textContent = author || "Your tutor";
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = "human tutor";
    who.append(" ", badge);
  } else {
    who.textContent = role === "user" ? t("page_you") : t("page_agent");
  }
  const body = document.createElement("div");
  body.className = "text";
  if (role === "user") body.textContent = text; else renderMarkdown(body, text);
  body.dataset.raw = text;
  div.append(who, body);
  $("log").append(div);
  scrollToEnd();
  return body;
}

function showMessage(m) {
  if (m.id && state.shown.has(m.id)) return;
  if (m.id) { state.shown.add(m.id); state.lastId = Math.max(state.lastId, m.id); }
  addMessage(m.role === "user" ? "user" : m.role === "tutor" ? "tutor" : "assistant", m.content, m.author);
}

function prettySkill(view, skill) {
  return (view.skills && view.skills[skill]) || skill.replace(/-/g, " ").replace(/^./, (c) => c.toUpperCase());
}

// Plan changes in plain words: what was agreed, not the protocol's message names.
function planSentence(view, n) {
  const skill = prettySkill(view, n.skill);
  const last = (n.messages || [])[n.messages.length - 1] || {};
  const plan = last.plan || (n.messages || []).map((m) => m.plan).filter(Boolean).pop() || {};
  const support = (plan.adjustments || []).map((a) => pageText.supports[a] || a).join("; ") || t("no_extra_support");
  const pace = t(`pace_${plan.pace || "moderate"}`);
  switch (n.status) {
    case "committed": return n.review_at
      ? t("page_plan_committed", { skill, pace, support, date: new Date(n.review_at).toLocaleDateString(pageText.language || undefined) })
      : t("page_plan_committed_soon", { skill, pace, support });
    case "kept": case "renegotiated": case "escalated": return t(`page_plan_${n.status}`, { skill });
    default: return t("page_plan_open", { skill });
  }
}

function renderLearner(view) {
  const list = $("mastery");
  list.replaceChildren();
  const skills = Object.entries(view.mastery || {});
  if (!skills.length) {
    const li = document.createElement("li");
    li.textContent = t("page_mastery_empty");
    list.append(li);
  }
  for (const [skill, p] of skills) {
    const pct = Math.round(p * 100);
    const title = prettySkill(view, skill);
    const li = document.createElement("li");
    li.dataset.skill = skill;
    const name = document.createElement("div");
    name.className = "skill-name";
    const label = document.createElement("span");
    label.textContent = title;
    const value = document.createElement("strong");
    value.textContent = `${pct}%`;
    name.append(label, value);
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-label", t("page_mastery_bar", { skill: title }));
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.setAttribute("aria-valuenow", String(pct));
    const fill = document.createElement("span");
    fill.style.width = `${pct}%`;
    bar.append(fill);
    li.append(name, bar);
    list.append(li);
  }
  if (view.profile) $("pace").textContent = t("page_pace", { pace: t(`pace_${view.profile.pace}`) });
  const plans = $("negotiations");
  plans.replaceChildren();
  if (!(view.negotiations || []).length) {
    const li = document.createElement("li");
    li.textContent = t("page_plan_empty");
    plans.append(li);
  }
  for (const n of view.negotiations || []) {
    const li = document.createElement("li");
    li.textContent = planSentence(view, n);
    plans.append(li);
  }
}

// --- assigned work ----------------------------------------------------------------------------
async function loadAssignments() {
  const list = $("assignments");
  let work = [];
  try { work = await api("/v1/me/assignments"); } catch (err) { list.replaceChildren(); return; }
  list.replaceChildren();
  if (!work.length) {
    const li = document.createElement("li");
    li.textContent = t("page_work_empty");
    list.append(li);
  }
  for (const a of work) {
    const li = document.createElement("li");
    const title = document.createElement("strong");
    title.textContent = a.title;
    const info = document.createElement("span");
    info.className = "hint";
    const due = a.due_at ? `due ${new Date(a.due_at).toLocaleString()}` : "no due date";
    info.textContent = a.status === "graded" ? ` \u2013 graded: ${a.score} / ${a.max_score}`
      : a.status === "queued" ? " \u2013 handed in, being graded" : a.status === "missed" ? " \u2013 closed" : ` \u2013 ${a.questions} question(s), ${due}`;
    li.append(title, info);
    if (a.status === "todo" || a.submission_id) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary small";
      button.textContent = a.status === "todo" ? "Start" : "See results";
      button.setAttribute("aria-label", `${button.textContent}: ${a.title}`);
      button.addEventListener("click", () => (a.status === "todo" ? openQuiz(a.quiz_id) : showResult(a.submission_id, a.title)));
      li.append(" ", button);
    }
    list.append(li);
  }
}

function showView(name) {
  for (const id of ["login-view", "chat-view", "quiz-view"]) $(id).hidden = id !== name;
}

async function openQuiz(quizId) {
  const quiz = await api(`/v1/quizzes/${quizId}`);
  state.quiz = quiz;
  $("quiz-title").textContent = quiz.title;
  $("quiz-result").replaceChildren();
  const form = $("quiz-form");
  form.replaceChildren();
  quiz.questions.forEach((q, n) => {
    const field = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.textContent = `${n + 1}. ${q.prompt} (${q.points} point${q.points === 1 ? "" : "s"})`;
    field.append(legend);
    if (q.kind === "choice") {
      for (const [key, text] of Object.entries(q.choices)) {
        const id = `${q.id}-${key}`;
        const input = document.createElement("input");
        Object.assign(input, { type: "radio", name: q.id, value: key, id });
        const label = document.createElement("label");
        label.htmlFor = id;
        label.className = "choice";
        label.textContent = `${key}) ${text}`;
        const row = document.createElement("div");
        row.className = "choice-row";
        row.append(input, label);
        field.append(row);
      }
    } else {
      const id = `${q.id}-answer`;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = q.kind === "code" ? "Your code" : "Your answer";
      const area = document.createElement("textarea");
      Object.assign(area, { id, name: q.id, rows: q.kind === "code" ? 6 : 2 });
      if (q.kind === "code") area.spellcheck = false;
      field.append(label, area);
    }
    form.append(field);
  });
  const error = document.createElement("p");
  error.className = "error";
  error.id = "quiz-error";
  error.setAttribute("role", "alert");
  const submit = document.createElement("button");
  submit.type = "submit";
  submit.textContent = "Hand in";
  form.append(error, submit);
  showView("quiz-view");
  form.querySelector("input, textarea")?.focus();
}

async function followSubmission(submissionId) {
  const res = await api(`/v1/submissions/${submissionId}/events`, { accept: "text/event-stream" });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let result = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer = parseFrames(buffer + decoder.decode(value, { stream: true }), (event, data) => {
      if (event === "result") result = data;
      else if (event === "status") $("quiz-result").textContent = "Grading your answers\u2026";
    });
    if (result) { reader.cancel(); break; }
  }
  return result;
}

function renderResult(view, title) {
  const box = $("quiz-result");
  box.replaceChildren();
  const heading = document.createElement("h3");
  heading.textContent = `${title}: ${view.score} / ${view.max_score}`;
  box.append(heading);
  const list = document.createElement("ol");
  for (const q of view.questions) {
    const li = document.createElement("li");
    li.className = q.correct ? "ok" : "bad";
    const verdict = document.createElement("strong");
    verdict.textContent = q.correct ? "Correct. " : "Not quite. ";
    const feedback = document.createElement("span");
    feedback.className = "prewrap";
    feedback.textContent = q.feedback;
    li.append(verdict, feedback);
    if (q.confidence < 0.7) {
      const note = document.createElement("em");
      note.textContent = " (a teacher will check this one)";
      li.append(note);
    }
    list.append(li);
  }
  box.append(list);
  for (const e of view.explanations || []) {
    const more = document.createElement("div");
    more.className = "msg assistant";
    renderMarkdown(more, e.text);
    box.append(more);
  }
  heading.tabIndex = -1;
  heading.focus();
}

async function showResult(submissionId, title) {
  const view = await api(`/v1/submissions/${submissionId}`);
  $("quiz-title").textContent = title;
  $("quiz-form").replaceChildren();
  showView("quiz-view");
  if (view.status === "graded") renderResult(view, title);
  else {
    $("quiz-result").textContent = "Grading your answers\u2026";
    const graded = await followSubmission(submissionId);
    if (graded) renderResult(graded, title);
  }
}

$("quiz-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const quiz = state.quiz;
  const answers = {};
  for (const q of quiz.questions) {
    const field = e.target.elements[q.id];
    const value = field instanceof RadioNodeList ? field.value : field?.value;
    if (value && value.trim()) answers[q.id] = value;
  }
  const error = $("quiz-error");
  if (Object.keys(answers).length < quiz.questions.length) {
    error.textContent = `Answer every question first (${Object.keys(answers).length} of ${quiz.questions.length} answered).`;
    return;
  }
  error.textContent = "";
  try {
    const sent = await api(`/v1/quizzes/${quiz.id}/submissions`, { method: "POST", body: { answers } });
    $("quiz-form").replaceChildren();
    $("quiz-result").textContent = "Handed in. Grading your answers\u2026";
    const graded = await followSubmission(sent.submission_id);
    if (graded) renderResult(graded, quiz.title);
    loadAssignments();
  } catch (err) { error.textContent = explain(err); }
});

$("quiz-back").addEventListener("click", async () => {
  showView("chat-view");
  await loadAssignments();
  scrollToEnd();
  $("message").focus();
});

// --- streaming ------------------------------------------------------------------------------
function parseFrames(buffer, onEvent) {
  const frames = buffer.split(/\r?\n\r?\n/);
  const rest = frames.pop();
  for (const frame of frames) {
    let event = "message";
    const data = [];
    for (const line of frame.split(/\r?\n/)) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (data.length) onEvent(event, JSON.parse(data.join("\n")));
  }
  return rest;
}

async function send(text) {
  addMessage("user", text);
  $("status").textContent = t("page_thinking");
  const res = await api(`/v1/threads/${state.thread}/messages`,
                        { method: "POST", body: { content: text }, accept: "text/event-stream" });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let bubble = null;
  const onEvent = (event, data) => {
    if (event === "stage" && data.status === "started") $("status").textContent = t("page_working");
    else if (event === "token") {
      if (!bubble) bubble = addMessage("assistant", "");
      let raw = bubble.dataset.raw || "";
      if (bubble.dataset.node && bubble.dataset.node !== data.node) raw += "\n\n";  // the next agent step
      bubble.dataset.node = data.node;
      bubble.dataset.raw = raw + data.text;
      renderMarkdown(bubble, bubble.dataset.raw);
      scrollToEnd();
    } else if (event === "state") {
      renderLearner(data);
      followLanguage(data.profile && data.profile.language).catch(() => { /* the panels keep their language */ });
      if (data.intent === "goodbye") loadReflections();  // the goodbye stored this session's reflection
      if (data.intent === "goodbye" || data.last_grade) loadHistory();  // a new answer or a closed session
    }
    else if (event === "error") throw new ApiError(500, data.code, data.message);
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer = parseFrames(buffer + decoder.decode(value, { stream: true }), onEvent);
  }
  $("status").textContent = "";
}

// A human tutor's replies arrive on the thread's event stream while the page is open.
async function watchThread(thread) {
  const controller = new AbortController();
  state.watching = controller;
  let pause = 1000;
  while (state.thread === thread && !controller.signal.aborted) {
    try {
      const res = await api(`/v1/threads/${thread}/events?after=${state.lastId}`,
                            { accept: "text/event-stream", signal: controller.signal });
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      pause = 1000;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = parseFrames(buffer + decoder.decode(value, { stream: true }), (event, data) => {
          if (event === "tutor_message") {
            showMessage({ ...data, role: "tutor" });
            $("status").textContent = `${data.author} (human tutor) replied.`;
          }
        });
      }
    } catch (err) {
      if (controller.signal.aborted || err.status === 401 || err.status === 404) return;
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 30000);
  }
}

// The student wrote in another language (or chose one): the panels follow, as the replies do.
async function followLanguage(language) {
  if (!(await loadPageText(language))) return;
  renderLearner(await api(`/v1/threads/${state.thread}`));  // skill titles in the new language too
  loadAssignments();
  loadReflections();
  loadSettings();  // the goal choices and the history name skills in the new language
}

// --- views -------------------------------------------------------------------------------
async function openChat() {
  const me = await api("/v1/auth/me");
  if (me.role !== "student") { location.href = "/console"; return; }  // staff work in the console
  $("who").hidden = $("logout").hidden = false;
  const threads = await api("/v1/threads");
  state.thread = threads.length ? threads[0].thread_id : (await api("/v1/threads", { method: "POST" })).thread_id;
  const view = await api(`/v1/threads/${state.thread}`);
  state.username = me.username;
  pageText.language = "";  // another student may have signed in on this page before
  if (!(await loadPageText(view.profile.language))) await loadPageText("en");
  $("log").replaceChildren();
  state.shown.clear();
  state.lastId = 0;
  showView("chat-view");  // visible first: a hidden log has no height to scroll to the newest message
  for (const m of view.messages) showMessage(m);
  if (!view.messages.length) {
    const hint = document.createElement("p");
    hint.className = "empty";
    hint.textContent = "No messages yet. Ask your agent to teach a topic, or say \u201cpractice\u201d.";
    $("log").append(hint);
  }
  renderLearner(view);
  scrollToEnd();
  $("message").focus();
  loadAssignments();
  loadReflections();
  loadSettings();
  watchThread(state.thread);
}

function signOut(reason = "") {
  state.token = null;
  state.thread = null;
  state.watching?.abort();
  sessionStorage.removeItem("tm_token");
  showView("login-view");
  $("who").hidden = $("logout").hidden = true;
  $("login-error").textContent = reason;
  $("username").focus();
}

function explain(err) {
  if (err.status === 429) return `Too many requests: try again in ${err.retryAfter || "a few"} seconds.`;
  return err.message || "Something went wrong.";
}

function checkLength() {
  const n = $("message").value.length;
  const count = $("message-count");
  count.textContent = t("page_count", { n, max: MAX_CHARS });
  const over = n > MAX_CHARS;
  count.classList.toggle("over", over);
  $("message").setAttribute("aria-invalid", over ? "true" : "false");
  $("message-error").textContent = over ? t("page_too_long", { n: n - MAX_CHARS }) : "";
  return over;
}

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("login-error").textContent = "";
  if (!$("username").value.trim() || !$("password").value) {
    $("login-error").textContent = "Enter your username and password.";
    return;
  }
  try {
    const token = await api("/v1/auth/token",
                            { method: "POST", form: { username: $("username").value, password: $("password").value } });
    state.token = token.access_token;
    sessionStorage.setItem("tm_token", state.token);
    $("password").value = "";
    if (token.role !== "student") { location.href = "/console"; return; }
    await openChat();
  } catch (err) {
    $("login-error").textContent = explain(err);
  }
});

$("composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("message").value.trim();
  if (state.busy) { $("message-error").textContent = t("page_wait"); return; }
  if (!text) { $("message-error").textContent = t("page_type_first"); $("message").focus(); return; }
  if (checkLength()) { $("message").focus(); return; }
  state.busy = true;
  $("send").disabled = true;
  $("message").value = "";
  checkLength();
  try { await send(text); } catch (err) { $("status").textContent = explain(err); }
  state.busy = false;
  $("message-error").textContent = "";
  $("send").disabled = false;
  $("message").focus();
});

$("message").addEventListener("input", checkLength);
$("message").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("composer").requestSubmit(); }
});

$("logout").addEventListener("click", () => signOut());

if (state.token) openChat().catch(() => signOut());
