// The chat page's settings panel and session reflections (GET/PATCH /v1/me/profile, GET /v1/me/reflections).
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

async function loadSettings() {
  try { fillSettings(await api("/v1/me/profile")); }
  catch (err) { $("settings-error").textContent = explain(err); }
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
    fillSettings(await api("/v1/me/profile", { method: "PATCH", body }));
    $("settings-status").textContent = "Saved. Your next reply uses these settings.";
  } catch (err) {
    $("settings-status").textContent = "";
    $("settings-error").textContent = explain(err);
  }
});
