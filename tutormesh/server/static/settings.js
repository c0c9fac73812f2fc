// The chat page's settings panel, session reflections and the 30-day history
// (GET/PATCH /v1/me/profile, GET /v1/me/reflections).
// Loaded before app.js; its functions use app.js's `api` and `$` only when called, after both loaded.
"use strict";

function option(value, title, selected) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = title;
  o.selected = selected;
  return o;
}

function fillSettings(p) {
  const c = p.choices;
  $("set-language").replaceChildren(...c.language.map((x) => option(x.value, x.title, x.value === p.language)));
  const culture = $("set-culture");
  culture.replaceChildren(option("", "The default for my language", !p.cultural_context),
                          ...c.cultural_context.map((x) => option(x.value, x.title, x.value === p.cultural_context)));
  $("set-style").replaceChildren(option("", "What works for me (learned from my answers)", !p.style_override),
                                 ...c.style_override.map((x) => option(x.value, x.title, x.value === p.style_override)));
  $("set-goals").replaceChildren(...c.goals.map((x) => option(x.value, x.title, p.goals.includes(x.value))));
}

function minutes(seconds) {
  return seconds < 60 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;
}

function percent(accuracy) {
  return accuracy === null ? "\u2013" : `${Math.round(accuracy * 100)}%`;
}

function fillHistory(p) {
  const h = p.history;
  const titles = Object.fromEntries(p.choices.goals.map((x) => [x.value, x.title]));
  const named = (skills) => skills.map((s) => titles[s] || s).join(", ");
  $("history-totals").textContent = h.sessions
    ? `${h.sessions} session${h.sessions === 1 ? "" : "s"}, ${h.answers} answer${h.answers === 1 ? "" : "s"}, ${percent(h.accuracy)} right, ` +
      `${minutes(h.time_on_task_s)} on task, ${h.hints_used} hint${h.hints_used === 1 ? "" : "s"}.`
    : "No practice in the last 30 days yet.";
  $("history-strengths").textContent = [p.strengths.length ? `Strong: ${named(p.strengths)}.` : "",
    p.weaknesses.length ? `Working on: ${named(p.weaknesses)}.` : ""].filter(Boolean).join(" ");
  $("history-skills").replaceChildren(...h.skills.slice(0, 6).map((s) => {
    const li = document.createElement("li");
    const note = document.createElement("small");
    note.textContent = ` ${s.right}/${s.answers} right, ${minutes(s.time_on_task_s)}`;
    li.append(s.title, note);
    return li;
  }));
  $("history-reviews").textContent = h.due_reviews.length
    ? `Due a review: ${h.due_reviews.map((s) => s.title).join(", ")}.` : "";
}

async function loadSettings() {
  try {
    const p = await api("/v1/me/profile");
    fillSettings(p);
    fillHistory(p);
  } catch (err) { $("settings-error").textContent = explain(err); }
}

async function loadHistory() {
  try { fillHistory(await api("/v1/me/profile")); } catch (err) { /* the panel keeps its last figures */ }
}

async function loadReflections() {
  const list = $("reflections");
  let rows = [];
  try { rows = await api("/v1/me/reflections"); } catch (err) { list.replaceChildren(); return; }
  list.replaceChildren();
  if (!rows.length) {
    const li = document.createElement("li");
    li.textContent = "Say \u201cbye\u201d when you finish: your agent notes what worked and what changes next time.";
    list.append(li);
  }
  for (const r of rows.slice(0, 3)) {
    const li = document.createElement("li");
    const at = document.createElement("time");
    at.dateTime = r.created_at;
    at.textContent = new Date(r.created_at).toLocaleString() + (r.applied_at ? " \u2013 used in a later session" : "");
    li.append(at, r.summary);
    list.append(li);
  }
}

document.getElementById("settings").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.target;
  const body = { language: form.elements.language.value, cultural_context: form.elements.cultural_context.value,
                 style_override: form.elements.style_override.value || null,
                 goals: Array.from(form.elements.goals.selectedOptions, (o) => o.value) };
  $("settings-error").textContent = "";
  $("settings-status").textContent = "Saving\u2026";
  try {
    const p = await api("/v1/me/profile", { method: "PATCH", body });
    fillSettings(p);
    fillHistory(p);
    $("settings-status").textContent = "Saved. Your next reply uses these settings.";
  } catch (err) {
    $("settings-status").textContent = "";
    $("settings-error").textContent = explain(err);
  }
});
