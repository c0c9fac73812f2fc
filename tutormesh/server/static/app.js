// TutorMesh web chat: plain JS, no build step. Everything shown comes from the HTTP API.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { token: sessionStorage.getItem("tm_token"), thread: null, busy: false };

class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    Object.assign(this, { status, code, retryAfter });
  }
}

async function api(path, { method = "GET", body, form, accept = "application/json" } = {}) {
  const headers = { Accept: accept };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  let payload;
  if (form) { payload = new URLSearchParams(form); }
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  const res = await fetch(path, { method, headers, body: payload });
  if (!res.ok) {
    let error = { code: "error", message: `request failed (${res.status})` };
    try { error = (await res.json()).error || error; } catch (_) { /* not JSON */ }
    if (res.status === 401 && path !== "/v1/auth/token") signOut("Your session ended: please sign in again.");
    throw new ApiError(res.status, error.code, error.message, res.headers.get("Retry-After"));
  }
  return accept === "application/json" ? res.json() : res;
}

// --- rendering --------------------------------------------------------------------------
function addMessage(role, text) {
  document.querySelector("#log .empty")?.remove();
  const div = document.createElement("div");
  div.className = `msg ${role}`;
  const who = document.createElement("span");
  who.className = "who-said";
  who.textContent = role === "user" ? "You" : "Tutor";
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = text;
  div.append(who, body);
  $("log").append(div);
  $("log").scrollTop = $("log").scrollHeight;
  return body;
}

function renderLearner(view) {
  const list = $("mastery");
  list.replaceChildren();
  const skills = Object.entries(view.mastery || {});
  if (!skills.length) {
    const li = document.createElement("li");
    li.textContent = "No practice yet. Say \u201cpractice\u201d to start.";
    list.append(li);
  }
  for (const [skill, p] of skills) {
    const pct = Math.round(p * 100);
    const title = (view.skills && view.skills[skill]) || skill;
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
    bar.setAttribute("aria-label", `${title} mastery`);
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.setAttribute("aria-valuenow", String(pct));
    const fill = document.createElement("span");
    fill.style.width = `${pct}%`;
    bar.append(fill);
    li.append(name, bar);
    list.append(li);
  }
  if (view.profile) $("pace").textContent = `Pace: ${view.profile.pace}`;
  const plans = $("negotiations");
  plans.replaceChildren();
  if (!(view.negotiations || []).length) {
    const li = document.createElement("li");
    li.textContent = "None yet.";
    plans.append(li);
  }
  for (const n of view.negotiations || []) {
    const li = document.createElement("li");
    const types = (n.messages || []).map((m) => m.type).join(" \u2192 ");
    li.textContent = `${n.skill}: ${n.status} (${types})`;
    plans.append(li);
  }
}

// --- streaming a turn ---------------------------------------------------------------------
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
  $("status").textContent = "Your tutor is thinking\u2026";
  const res = await api(`/v1/threads/${state.thread}/messages`,
                        { method: "POST", body: { content: text }, accept: "text/event-stream" });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let bubble = null;
  const onEvent = (event, data) => {
    if (event === "stage" && data.status === "started") $("status").textContent = `Tutor: ${data.node}\u2026`;
    else if (event === "token") {
      if (!bubble) bubble = addMessage("assistant", "");
      else if (bubble.dataset.node !== data.node) bubble.textContent += "\n\n";  // the next agent step
      bubble.dataset.node = data.node;
      bubble.textContent += data.text;
      $("log").scrollTop = $("log").scrollHeight;
    } else if (event === "state") renderLearner(data);
    else if (event === "error") throw new ApiError(500, data.code, data.message);
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer = parseFrames(buffer + decoder.decode(value, { stream: true }), onEvent);
  }
  $("status").textContent = "";
}

// --- views -------------------------------------------------------------------------------
async function openChat() {
  const me = await api("/v1/auth/me");
  $("who").textContent = `Signed in as ${me.username} (${me.role})`;
  $("who").hidden = $("logout").hidden = false;
  const threads = await api("/v1/threads");
  state.thread = threads.length ? threads[0].thread_id : (await api("/v1/threads", { method: "POST" })).thread_id;
  const view = await api(`/v1/threads/${state.thread}`);
  $("log").replaceChildren();
  for (const m of view.messages) addMessage(m.role === "user" ? "user" : "assistant", m.content);
  if (!view.messages.length) {
    const hint = document.createElement("p");
    hint.className = "empty";
    hint.textContent = "No messages yet. Ask your agent to teach a topic, or say \u201cpractice\u201d.";
    $("log").append(hint);
  }
  renderLearner(view);
  $("login-view").hidden = true;
  $("chat-view").hidden = false;
  $("message").focus();
}

function signOut(reason = "") {
  state.token = null;
  state.thread = null;
  sessionStorage.removeItem("tm_token");
  $("chat-view").hidden = true;
  $("who").hidden = $("logout").hidden = true;
  $("login-view").hidden = false;
  $("login-error").textContent = reason;
  $("username").focus();
}

function explain(err) {
  if (err.status === 429) return `Too many requests: try again in ${err.retryAfter || "a few"} seconds.`;
  return err.message || "Something went wrong.";
}

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("login-error").textContent = "";
  try {
    const token = await api("/v1/auth/token",
                            { method: "POST", form: { username: $("username").value, password: $("password").value } });
    state.token = token.access_token;
    sessionStorage.setItem("tm_token", state.token);
    $("password").value = "";
    await openChat();
  } catch (err) {
    $("login-error").textContent = explain(err);
  }
});

$("composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("message").value.trim();
  if (!text || state.busy) return;
  state.busy = true;
  $("send").disabled = true;
  $("message").value = "";
  try { await send(text); } catch (err) { $("status").textContent = explain(err); }
  state.busy = false;
  $("send").disabled = false;
  $("message").focus();
});

$("message").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("composer").requestSubmit(); }
});

$("logout").addEventListener("click", () => signOut());

if (state.token) openChat().catch(() => signOut());
