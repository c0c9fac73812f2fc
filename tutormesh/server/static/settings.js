// The chat page's settings panel, session reflections and the 30-day history
// (GET/PATCH /v1/me/profile, GET /v1/me/reflections).
// Loaded before app.js; its functions use app.js's `api`, `$`, `t` and `pageText` only when called, after both loaded.
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
  culture.replaceChildren(option("", t("page_culture_default"), !p.cultural_context),
                          ...c.cultural_context.map((x) => option(x.value, x.title, x.value === p.cultural_context)));
  $("set-style").replaceChildren(option("", t("page_style_learned"), !p.style_override),
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
  const count = (n, key) => t(n === 1 ? `${key}_one` : `${key}_many`, { n });
  $("history-totals").textContent = h.sessions
    ? t("page_history_totals", { sessions: count(h.sessions, "page_sessions"), answers: count(h.answers, "page_answers"),
                                 percent: percent(h.accuracy), time: minutes(h.time_on_task_s),
                                 hints: count(h.hints_used, "page_hints") })
    : t("page_history_empty");
  $("history-strengths").textContent = [p.strengths.length ? t("page_strong", { skills: named(p.strengths) }) : "",
    p.weaknesses.length ? t("page_working_on", { skills: named(p.weaknesses) }) : ""].filter(Boolean).join(" ");
  $("history-skills").replaceChildren(...h.skills.slice(0, 6).map((s) => {
    const li = document.createElement("li");
    const note = document.createElement("small");
    note.textContent = ` ${t("page_history_skill", { right: s.right, answers: s.answers, time: minutes(s.time_on_task_s) })}`;
    li.append(s.title, note);
    return li;
  }));
  $("history-reviews").textContent = h.due_reviews.length
    ? t("page_due_review", { skills: h.due_reviews.map((s) => s.title).join(", ") }) : "";
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
    li.textContent = t("page_reflections_empty");
    list.append(li);
  }
  for (const r of rows.slice(0, 3)) {
    const li = document.createElement("li");
    const at = document.createElement("time");
    at.dateTime = r.created_at;
    at.textContent = new Date(r.created_at).toLocaleString(pageText.language || undefined) +
      (r.applied_at ? ` \u2013 ${t("page_reflection_used")}` : "");
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
  $("settings-status").textContent = t("page_saving");
  try {
    const p = await api("/v1/me/profile", { method: "PATCH", body });
    fillSettings(p);
    await followLanguage(p.language);
    fillHistory(p);
    $("settings-status").textContent = t("page_saved");
  } catch (err) {
    $("settings-status").textContent = "";
    $("settings-error").textContent = explain(err);
  }
});
