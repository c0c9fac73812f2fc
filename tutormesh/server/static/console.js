// TutorMesh console for teachers, tutors and admins: plain JS, no build step, every number from the API.
// Each chart (Chart.js) has the same numbers in a table beside it.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { token: sessionStorage.getItem("tm_token"), me: null, charts: [] };

class ApiError extends Error {
  constructor(status, code, message) { super(message); Object.assign(this, { status, code }); }
}

async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401) { signOut(); throw new ApiError(401, "unauthorized", "Please sign in again."); }
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const error = (data && data.error) || { code: "error", message: `request failed (${res.status})` };
    throw new ApiError(res.status, error.code, error.message);
  }
  return data;
}

function table(caption, columns, rows) {
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)));
  const body = rows.length ? rows.map((r) => h("tr", {}, r.map((cell, i) =>
    i === 0 ? h("th", { scope: "row" }, cell) : h("td", {}, cell ?? "\u2013"))))
    : [h("tr", {}, h("td", { colspan: columns.length }, "Nothing yet."))];
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h("table", {}, h("caption", {}, caption), h("thead", {}, head), h("tbody", {}, body)));
}

const pct = (p) => (p === null || p === undefined ? "\u2013" : `${Math.round(p * 100)}%`);
const usd = (x) => `$${Number(x || 0).toFixed(2)}`;
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "\u2013");

function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}

function toast(text) {
  $("toast").textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { $("toast").textContent = ""; }, 6000);
}

function errorBox() { return h("p", { class: "error", role: "alert" }); }

async function guarded(box, work) {
  box.textContent = "";
  try { await work(); } catch (err) { box.textContent = err.message || "Something went wrong."; }
}

function chart(label, config) {
  const canvas = h("canvas", { role: "img", "aria-label": label });
  const wrap = h("div", { class: "chart" }, canvas);
  if (window.Chart) {
    requestAnimationFrame(() => {
      config.options = { animation: false, responsive: true, maintainAspectRatio: false, ...(config.options || {}) };
      state.charts.push(new window.Chart(canvas, config));
    });
  }
  return wrap;
}

function page(title, ...children) {
  if (location.hash !== state.routeHash) return;  // a slower view that was left before it loaded
  for (const c of state.charts.splice(0)) c.destroy();
  const main = $("main");
  main.replaceChildren(h("h2", { id: "page-title" }, title), ...children);
  document.title = `${title} \u2013 TutorMesh console`;
  for (const t of main.querySelectorAll(".transcript")) t.scrollTop = t.scrollHeight;  // newest message in view
  main.focus({ preventScroll: true });
}

const COLORS = { committed: "#0b57d0", kept: "#146c2e", renegotiated: "#8a4b00", escalated: "#b3261e", open: "#5f6368" };
const OUTCOME_WORDS = { committed: "plan agreed", kept: "agreement kept", renegotiated: "renegotiated",
                        escalated: "sent to a human", open: "still open" };

// --- dashboard --------------------------------------------------------------------------------
function heatCell(p) {
  if (p === null || p === undefined) return h("td", { class: "heat none" }, "\u2013");
  const level = Math.min(4, Math.floor(p * 5));
  return h("td", { class: `heat l${level}` }, pct(p));
}

async function showDashboard(cohortArg) {
  const { cohorts } = await api("/v1/dashboards/cohorts");
  if (!cohorts.length) { page("Dashboard", h("p", {}, "You have no cohort yet: ask an admin to add you to one.")); return; }
  const cohort = cohorts.includes(cohortArg) ? cohortArg : cohorts[0];
  const picker = h("select", { id: "cohort-pick", onchange: (e) => { location.hash = `#/dashboard/${encodeURIComponent(e.target.value)}`; } },
    cohorts.map((c) => h("option", { value: c, selected: c === cohort }, c)));
  const [board, quizzes] = await Promise.all([api(`/v1/dashboards/cohorts/${encodeURIComponent(cohort)}`),
                                              api("/v1/quizzes")]);
  const hm = board.heatmap;
  const heat = h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Mastery heatmap" },
    h("table", { class: "heatmap" },
      h("caption", {}, `Mastery per student and skill (mastered at ${pct(hm.mastery_threshold)}; \u2013 not practised)`),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Student"), hm.skills.map((s) => h("th", { scope: "col" }, s.title)))),
      h("tbody", {}, hm.students.length ? hm.students.map((r) => h("tr", {},
        h("th", { scope: "row" }, h("a", { href: `#/student/${r.user_id}` }, r.student)),
        r.mastery.map(heatCell))) : h("tr", {}, h("td", {}, "No students in this cohort yet.")))));

  const struggling = table("Struggling students (most signals first)",
    ["Student", "Wrong in a row", "Stalled mastery", "Open plan talks", "Waiting for a human"],
    board.struggling.map((r) => [h("a", { href: `#/student/${r.user_id}` }, r.student),
      r.streaks.map((s) => `${s.skill}: ${s.wrong_in_a_row}`).join("; ") || "\u2013",
      r.stalled.map((s) => `${s.skill}: ${pct(s.p_known)} after ${s.attempts}`).join("; ") || "\u2013",
      r.open_negotiations, r.open_escalations]));

  const neg = board.negotiations;
  const negChart = chart(`Negotiation outcomes per week, ${neg.total} in all`, {
    type: "bar",
    data: { labels: neg.weeks, datasets: neg.statuses.map((st) => ({ label: OUTCOME_WORDS[st], data: neg.series[st],
                                                                    backgroundColor: COLORS[st] })) },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
  });
  const negTable = table("Negotiation outcomes per week (week starting)", ["Week", ...neg.statuses.map((s) => OUTCOME_WORDS[s])],
    neg.weeks.map((w, i) => [w, ...neg.statuses.map((s) => neg.series[s][i])]));

  const cost = board.cost;
  const costChart = chart(`LLM cost per student this month against budget (${cost.month})`, {
    type: "bar",
    data: { labels: cost.students.map((s) => s.student),
            datasets: [{ label: "spent (USD)", data: cost.students.map((s) => s.month_usd), backgroundColor: "#0b57d0" },
                       { label: "projected (USD)", data: cost.students.map((s) => s.projected_usd), backgroundColor: "#8ab4f8" },
                       { label: "monthly budget (USD)", data: cost.students.map((s) => s.monthly_budget_usd), backgroundColor: "#5f6368" }] },
    options: { scales: { y: { beginAtZero: true } } },
  });
  const costTable = table(`Cost per student, ${cost.month}`, ["Student", "Spent", "Projected", "Monthly budget", "Over budget"],
    cost.students.map((s) => [s.student, usd(s.month_usd), usd(s.projected_usd), usd(s.monthly_budget_usd), s.over_budget ? "yes" : "no"]));

  const quizList = h("ul", { class: "plain" }, quizzes.length ? quizzes.map((q) => h("li", {},
    h("a", { href: `#/quiz/${q.id}/${encodeURIComponent(cohort)}` }, q.title), ` \u2013 ${q.graded} graded of ${q.submissions} submitted`))
    : h("li", {}, "No quizzes yet."));

  page(`Dashboard: ${cohort}`,
    h("p", {}, h("label", { for: "cohort-pick" }, "Cohort "), picker),
    h("section", { "aria-labelledby": "s-heat" }, h("h3", { id: "s-heat" }, "Mastery"), heat),
    h("section", { "aria-labelledby": "s-strug" }, h("h3", { id: "s-strug" }, "Struggling students"), struggling),
    h("div", { class: "grid2" },
      h("section", { "aria-labelledby": "s-neg" }, h("h3", { id: "s-neg" }, "Negotiation outcomes"),
        h("p", {}, neg.success_rate === null ? "No negotiations in these weeks."
          : `${pct(neg.success_rate)} ended in an agreement (target 80%).`), negChart,
        h("details", {}, h("summary", {}, "Show as a table"), negTable)),
      h("section", { "aria-labelledby": "s-cost" }, h("h3", { id: "s-cost" }, "Cost per student"), costChart,
        h("details", {}, h("summary", {}, "Show as a table"), costTable))),
    h("section", { "aria-labelledby": "s-quiz" }, h("h3", { id: "s-quiz" }, "Quiz item analysis"), quizList));
}

// --- item analysis ------------------------------------------------------------------------------
async function showQuizReport(quizId, cohort) {
  const query = cohort ? `?cohort=${encodeURIComponent(cohort)}` : "";
  const [report, results] = await Promise.all([api(`/v1/quizzes/${quizId}/report${query}`), api(`/v1/quizzes/${quizId}/results`)]);
  const items = report.items;
  const labels = items.map((i) => `Q${i.position}`);
  const pctChart = chart(`Percent correct per question of ${report.title}`, {
    type: "bar",
    data: { labels, datasets: [{ label: "% correct", data: items.map((i) => i.pct_correct ?? 0),
                                 backgroundColor: items.map((i) => (i.wrong_share !== null && i.wrong_share >= i.reteach_threshold ? "#b3261e" : "#146c2e")) }] },
    options: { scales: { y: { beginAtZero: true, max: 100 } }, plugins: { legend: { display: false } } },
  });
  const rows = items.map((i) => [
    `Q${i.position}: ${i.prompt}`, i.attempts, i.pct_correct === null ? "\u2013" : `${i.pct_correct}%`,
    i.discrimination ?? "\u2013",
    i.choices ? i.choices.map((c) => `${c.key}) ${c.text}: ${c.count}${c.correct ? " (correct)" : ""}`).join("; ")
      : i.wrong_answers.map((w) => `${w.answer}: ${w.count}`).join("; ") || "\u2013",
    i.wrong_share !== null && i.wrong_share >= i.reteach_threshold ? `yes (${pct(i.wrong_share)} wrong)` : "no",
    i.reteach.length ? i.reteach.map((r) => `sent to ${r.students_sent} student(s)`).join("; ") : "\u2013"]);
  const reteach = items.flatMap((i) => i.reteach.map((r) => h("details", {},
    h("summary", {}, `Re-teach for Q${i.position} (${pct(r.wrong_share)} of ${r.answers} answers wrong)`),
    h("p", { class: "prewrap" }, r.text))));
  page(`Item analysis: ${report.title}${report.cohort ? ` (${report.cohort})` : ""}`,
    h("p", {}, `The 60% rule: when at least ${pct(items[0]?.reteach_threshold ?? 0.6)} of the cohort got a question wrong, the SME agent explains it again to everyone who missed it.`),
    pctChart,
    table("Per question: takers, % correct, discrimination (point-biserial), answers chosen, the 60% rule and its re-teach",
      ["Question", "Answers", "Correct", "Discrimination", "Answers given", "60% rule", "Re-teach"], rows),
    ...reteach,
    h("h3", {}, "Results"),
    table("Results by student", ["Student", "Status", "Score", "Flagged", "Submitted"],
      results.map((r) => [r.student, r.status, r.score === null ? "\u2013" : `${r.score} / ${r.max_score}`, r.flagged, when(r.submitted_at)])));
}

// --- a student's record ---------------------------------------------------------------------------
function transcriptList(messages) {
  return h("ol", { class: "transcript", tabindex: "0", "aria-label": "Conversation" }, messages.length ? messages.map((m) => h("li", { class: `msg ${m.role}` },
    h("span", { class: "who-said" }, m.role === "user" ? "Student" : m.role === "tutor" ? `${m.author} (human tutor)` : "Agent"),
    h("span", { class: "text" }, m.content))) : h("li", {}, "No messages yet."));
}

function negotiationSteps(n) {
  return h("ol", { class: "steps" }, (n.messages || []).map((m) => h("li", {},
    h("strong", {}, `${m.type} from ${(m.sender || "").replace("_", " ")}: `),
    m.reason || m.trade_off || m.estimated_impact || (m.plan ? `pace ${m.plan.pace}` : "") || m.kind || "")));
}

function reflectionTable(rows) {  // null: the caller's role may not read reflections (tutors)
  if (!rows) return h("p", {}, "Not shown to your role.");
  return table("Session reflections, newest first", ["When", "Ended by", "Right", "What the agent noticed"],
    rows.map((x) => [when(x.created_at), x.trigger, `${x.right} / ${x.answers}`, h("span", { class: "prewrap" }, x.summary)]));
}

function historySection(r) {  // the 30-day summary and what the agent learned (GET /v1/dashboards/students/{id})
  const hist = r.session_history, p = r.profile, title = (s) => r.skills[s] || s;
  const totals = hist.sessions ? `${hist.sessions} session(s), ${hist.answers} answers, ${pct(hist.accuracy)} right, ` +
    `${Math.round(hist.time_on_task_s / 60)} min on task, ${hist.hints_used} hint(s).` : "No practice in the last 30 days.";
  return [h("h3", {}, `Last ${hist.days} days`), h("p", {}, totals),
    h("p", {}, `Goals: ${p.goals.map(title).join(", ") || "\u2013"}. Strengths: ${p.strengths.map(title).join(", ") || "\u2013"}. ` +
      `Weaknesses: ${p.weaknesses.map(title).join(", ") || "\u2013"}. Pace: ${p.pace}.` +
      (hist.due_reviews.length ? ` Due a review: ${hist.due_reviews.map((d) => d.title).join(", ")}.` : "")),
    table("Skills practised in the last 30 days", ["Skill", "Answers", "Right", "Time on task", "Last practised"],
      hist.skills.map((k) => [k.title, k.answers, pct(k.accuracy), `${Math.round(k.time_on_task_s)} s`, when(k.last_practised)])),
    table("Why the agent adapted (latest first)", ["When", "What", "Reason"],
      (p.adaptations || []).map((a) => [when(a.created_at), a.kind, a.reason]))];
}

async function showStudent(userId) {
  const [r, reflections] = await Promise.all([api(`/v1/dashboards/students/${userId}`),
                                              api(`/v1/students/${userId}/reflections`).catch(() => null)]);
  const skills = Object.keys(r.mastery);
  const bySkill = {};
  for (const p of r.history) (bySkill[p.title] ||= []).push({ x: p.at, y: Math.round(p.p_known * 100) });
  const historyChart = chart(`Mastery history of ${r.student}`, {
    type: "line",
    data: { datasets: Object.entries(bySkill).map(([title, points], i) => ({ label: title, data: points.map((p, n) => ({ x: n + 1, y: p.y })),
                                                                            borderColor: ["#0b57d0", "#146c2e", "#b3261e", "#8a4b00", "#6a1b9a"][i % 5] })) },
    options: { parsing: true, scales: { x: { type: "linear", title: { display: true, text: "attempt" }, ticks: { precision: 0 } },
                                         y: { min: 0, max: 100, title: { display: true, text: "% mastery" } } } },
  });
  page(`Student: ${r.student}`,
    h("p", {}, `Cohort ${r.cohort || "\u2013"}. Read-only; this visit is recorded in the audit log.`),
    h("div", { class: "grid2" },
      h("section", {}, h("h3", {}, "Mastery"), table("Mastery per skill", ["Skill", "Mastery"],
        skills.map((s) => [r.skills[s] || s, pct(r.mastery[s])]))),
      h("section", {}, h("h3", {}, "Mastery history"), historyChart,
        h("details", {}, h("summary", {}, "Show as a table"), table("Mastery after each attempt", ["When", "Skill", "Mastery", "From"],
          r.history.map((p) => [when(p.at), p.title, pct(p.p_known), p.source]))))),
    h("h3", {}, "Plan"), table("Delivery plans", ["Subject", "Pace", "Agreed support", "Easier-to-harder ramp"],
      r.plans.map((p) => [p.subject, p.pace, p.adjustments.join("; ") || "\u2013", p.difficulty_ramp ? "yes" : "no"])),
    h("h3", {}, "Negotiations"), ...(r.negotiations.length ? r.negotiations.map((n) => h("details", {},
      h("summary", {}, `${n.skill}: ${OUTCOME_WORDS[n.status] || n.status}, ${n.rounds} round(s)`), negotiationSteps(n)))
      : [h("p", {}, "None.")]),
    ...historySection(r),
    h("h3", {}, "Session reflections"), reflectionTable(reflections),
    h("h3", {}, "Latest conversation"), transcriptList(r.transcript));
}

// --- inbox: escalations and review flags ------------------------------------------------------------
async function showInbox() {
  const [escalations, flags] = await Promise.all([api("/v1/escalations"), api("/v1/flags")]);
  const waiting = escalations.filter((e) => e.status !== "resolved");
  const rows = waiting.map((e) => [
    h("a", { href: `#/escalation/${e.id}` }, `#${e.id} ${e.student}`), e.cohort, e.reason,
    e.status === "claimed" ? `claimed by ${e.claimed_by}` : "open",
    duration(e.age_s), e.overdue ? h("strong", { class: "bad" }, `overdue (SLA ${duration(e.sla_s)})`) : `within ${duration(e.sla_s)}`]);
  const flagRows = flags.map((f) => [
    `${f.student || "?"}: ${f.prompt}`, f.answer, `${f.score} / ${f.max_points}`, f.reason,
    flagForm(f)]);
  page("Inbox",
    h("section", { "aria-labelledby": "s-esc" }, h("h3", { id: "s-esc" }, `Students waiting for a human (${waiting.length})`),
      table("Escalations, oldest first", ["Escalation", "Cohort", "Why", "Status", "Waiting", "SLA"], rows)),
    h("section", { "aria-labelledby": "s-flags" }, h("h3", { id: "s-flags" }, `Answers to review (${flags.length})`),
      table("Review flags: answers the graders were unsure of", ["Question", "Answer", "Grade", "Why flagged", "Decision"], flagRows)));
}

function flagForm(f) {
  const id = `flag-${f.id}`;
  const box = errorBox();
  const score = h("input", { id: `${id}-score`, type: "number", min: "0", max: String(f.max_points), step: "0.5",
                             value: String(f.score), inputmode: "decimal" });
  const reason = h("input", { id: `${id}-reason`, required: true, placeholder: "why" });
  const form = h("form", { class: "inline-form", "aria-label": `Review answer of ${f.student}`,
    onsubmit: (e) => {
      e.preventDefault();
      const override = e.submitter && e.submitter.value === "override";
      guarded(box, async () => {
        if (!reason.value.trim()) throw new Error("Give a reason.");
        const out = await api(`/v1/flags/${f.id}/resolve`, { method: "POST",
          body: { reason: reason.value.trim(), score: override ? Number(score.value) : null } });
        toast(out.overridden ? `Grade changed to ${out.score} / ${out.max_points}.` : "Flag resolved; grade kept.");
        await showInbox();
      });
    } },
    h("label", { for: `${id}-score` }, "Score"), score,
    h("label", { for: `${id}-reason` }, "Reason"), reason,
    h("button", { type: "submit", name: "action", value: "override" }, "Set grade"),
    h("button", { type: "submit", name: "action", value: "keep", class: "secondary" }, "Keep grade"), box);
  return form;
}

async function showEscalation(id) {
  const e = await api(`/v1/escalations/${id}`);
  const box = errorBox();
  const mine = e.claimed_by === state.me.username;
  const reply = h("textarea", { id: "reply", rows: "4", maxlength: "4000", "aria-describedby": "reply-hint" });
  const reason = h("input", { id: "resolve-reason", placeholder: "e.g. explained sign changes; plan kept" });
  const actions = [];
  if (e.status === "open" || (e.status === "claimed" && !mine)) {
    actions.push(h("button", { type: "button", disabled: e.status === "claimed",
      onclick: () => guarded(box, async () => { await api(`/v1/escalations/${id}/claim`, { method: "POST" }); toast("Claimed: it is yours to answer."); await showEscalation(id); }) },
      e.status === "claimed" ? `Claimed by ${e.claimed_by}` : "Claim"));
  }
  const replyForm = mine && e.status !== "resolved" ? h("form", { class: "stack", onsubmit: (ev) => {
    ev.preventDefault();
    guarded(box, async () => {
      if (!reply.value.trim()) throw new Error("Write a reply first.");
      await api(`/v1/escalations/${id}/reply`, { method: "POST", body: { content: reply.value } });
      toast("Sent: the student sees it in their chat now.");
      await showEscalation(id);
    });
  } }, h("label", { for: "reply" }, `Reply to ${e.student}`), reply,
    h("p", { id: "reply-hint", class: "hint" }, "The student sees this in their own chat, from you by name."),
    h("button", { type: "submit" }, "Send reply")) : null;
  const resolveForm = e.status !== "resolved" && (mine || state.me.role === "admin") ? h("form", { class: "stack", onsubmit: (ev) => {
    ev.preventDefault();
    guarded(box, async () => {
      if (!reason.value.trim()) throw new Error("Give a reason for closing it.");
      await api(`/v1/escalations/${id}/resolve`, { method: "POST", body: { reason: reason.value } });
      toast("Resolved.");
      location.hash = "#/inbox";
    });
  } }, h("label", { for: "resolve-reason" }, "Resolve with a reason"), reason, h("button", { type: "submit", class: "secondary" }, "Resolve")) : null;
  page(`Escalation #${e.id}: ${e.student}`,
    h("dl", { class: "facts" },
      h("dt", {}, "Why"), h("dd", {}, e.reason), h("dt", {}, "Status"), h("dd", {}, e.status + (e.claimed_by ? ` (${e.claimed_by})` : "")),
      h("dt", {}, "Waiting"), h("dd", {}, `${duration(e.age_s)}${e.overdue ? " \u2013 overdue" : ""}`),
      e.resolution ? [h("dt", {}, "Resolution"), h("dd", {}, e.resolution)] : null),
    h("div", { class: "actions" }, actions), box,
    h("div", { class: "grid2" },
      h("section", {}, h("h3", {}, "Conversation"), transcriptList(e.transcript), replyForm, resolveForm),
      h("section", {}, h("h3", {}, "The negotiation that led here"),
        e.negotiation ? negotiationSteps(e.negotiation) : h("p", {}, "No negotiation."),
        h("p", {}, h("a", { href: `#/inbox` }, "Back to the inbox")))));
}

// --- quizzes ----------------------------------------------------------------------------------------
const EXAMPLE_QUIZ = JSON.stringify({ title: "Week 5 check", subject: "math", questions: [
  { kind: "choice", prompt: "2 + 3 * 4 = ?", topic: "order-of-operations", spec: { choices: { a: "20", b: "14" }, answer: "b" } },
  { kind: "symbolic", prompt: "Solve x + 3 = 5", topic: "one-step-equations", spec: { answer: "x = 2" } }] }, null, 2);

async function showQuizzes() {
  const quizzes = await api("/v1/quizzes");
  const box = errorBox();
  const spec = h("textarea", { id: "quiz-json", rows: "12", spellcheck: "false", "aria-describedby": "quiz-help" });
  spec.value = EXAMPLE_QUIZ;
  const create = h("form", { class: "stack", onsubmit: (e) => {
    e.preventDefault();
    guarded(box, async () => {
      let body;
      try { body = JSON.parse(spec.value); } catch (err) { throw new Error(`Not valid JSON: ${err.message}`); }
      const quiz = await api("/v1/quizzes", { method: "POST", body });
      toast(`Quiz \u201c${quiz.title}\u201d created.`);
      await showQuizzes();
    });
  } }, h("label", { for: "quiz-json" }, "New quiz (JSON)"), spec,
    h("p", { id: "quiz-help", class: "hint" }, "Kinds: choice, symbolic, open (with a rubric), code (with tests). The formats are in docs/assessment.md."),
    h("button", { type: "submit" }, "Create quiz"), box);
  const cards = quizzes.map((q) => {
    const abox = errorBox();
    const who = h("input", { id: `who-${q.id}`, placeholder: "cohort, or a student's username" });
    const due = h("input", { id: `due-${q.id}`, type: "datetime-local" });
    const assign = h("form", { class: "inline-form", "aria-label": `Assign ${q.title}`, onsubmit: (e) => {
      e.preventDefault();
      guarded(abox, async () => {
        const target = who.value.trim();
        if (!target) throw new Error("Name a cohort or a student.");
        const body = { quiz_id: q.id, due_at: due.value ? new Date(due.value).toISOString() : null };
        const cohorts = (await api("/v1/dashboards/cohorts")).cohorts;
        if (cohorts.includes(target)) body.cohort = target; else body.student = target;
        await api("/v1/assignments", { method: "POST", body });
        toast(`Assigned to ${target}.`);
        await showQuizzes();
      });
    } }, h("label", { for: `who-${q.id}` }, "Assign to"), who, h("label", { for: `due-${q.id}` }, "Due"), due,
      h("button", { type: "submit" }, "Assign"), abox);
    return h("article", { class: "card wide" }, h("h3", {}, q.title),
      h("p", {}, `${q.questions} question(s), ${q.subject}; ${q.submissions} submitted, ${q.graded} graded. `,
        h("a", { href: `#/quiz/${q.id}` }, "Item analysis and results")),
      table(`Assignments of ${q.title}`, ["To", "Due", "Status", "Action"], q.assignments.map((a) => [
        a.cohort || a.student || a.student_id, a.due_at ? when(a.due_at) : "no due date", a.open ? "open" : "closed",
        a.open ? h("button", { type: "button", class: "secondary", onclick: () => guarded(abox, async () => {
          await api(`/v1/assignments/${a.id}/close`, { method: "POST" }); toast("Closed."); await showQuizzes(); }) }, "Close") : ""])),
      assign);
  });
  page("Quizzes", ...cards, h("section", { class: "card wide" }, h("h3", {}, "Write a quiz"), create));
}

// --- admin --------------------------------------------------------------------------------------------
const SAMPLE_CSV = "username,role,cohort,password\nana,student,9a,\nben,student,9a,\nms-rao,teacher,9a,\n";

async function showAdmin() {
  const [users, cohorts, health] = await Promise.all([api("/v1/users"), api("/v1/admin/cohorts"), api("/v1/admin/health")]);
  const csv = h("textarea", { id: "roster", rows: "8", spellcheck: "false", "aria-describedby": "roster-help" });
  csv.value = SAMPLE_CSV;
  const file = h("input", { id: "roster-file", type: "file", accept: ".csv,text/csv",
    onchange: async (e) => { if (e.target.files[0]) csv.value = await e.target.files[0].text(); } });
  const result = h("div", { id: "roster-result", "aria-live": "polite" });
  const box = errorBox();
  const run = (apply) => guarded(box, async () => {
    const out = await api("/v1/admin/roster", { method: "POST", body: { csv: csv.value, apply } });
    const parts = [h("p", { class: out.errors.length ? "bad" : "ok" },
      out.errors.length ? `${out.errors.length} of ${out.rows} rows have errors: nothing was imported.`
        : out.applied ? `Imported ${out.created.length} users.` : `All ${out.rows} rows are valid. Apply to import them.`)];
    if (out.errors.length) parts.push(table("Rows with errors", ["Line", "Username", "Error"], out.errors.map((e) => [e.line, e.username, e.error])));
    if (out.applied) parts.push(table("Created users (generated passwords are shown only now)", ["Username", "Role", "Cohort", "Password"],
      out.created.map((u) => [u.username, u.role, u.cohort, u.password || "(from the file)"])));
    result.replaceChildren(...parts);
    if (out.applied) toast(`Imported ${out.created.length} users.`);
  });
  const importForm = h("form", { class: "stack", onsubmit: (e) => { e.preventDefault(); run(e.submitter?.value === "apply"); } },
    h("label", { for: "roster" }, "Roster CSV"), csv,
    h("p", { id: "roster-help", class: "hint" }, "Columns: username, role (student, teacher, tutor), cohort, optional password and display_name. Every row is checked first; nothing is imported while any row has an error."),
    h("label", { for: "roster-file" }, "or load a file"), file,
    h("div", { class: "actions" }, h("button", { type: "submit", value: "dry", class: "secondary" }, "Check (dry run)"),
      h("button", { type: "submit", value: "apply" }, "Import")), box, result);

  const userBox = errorBox();
  const field = (id, label, el) => [h("label", { for: id }, label), el];
  const nu = { name: h("input", { id: "nu-name", autocomplete: "off" }), cohort: h("input", { id: "nu-cohort" }),
               password: h("input", { id: "nu-password", type: "password", autocomplete: "new-password" }),
               role: h("select", { id: "nu-role" }, ["student", "teacher", "tutor", "admin"].map((r) => h("option", { value: r }, r))) };
  const addBox = errorBox();
  const addForm = h("form", { class: "inline-form", "aria-label": "Add a user", onsubmit: (e) => {
    e.preventDefault();
    guarded(addBox, async () => {
      const body = { username: nu.name.value.trim(), role: nu.role.value, password: nu.password.value,
                     cohort: nu.cohort.value.trim() || null };
      await api("/v1/users", { method: "POST", body });
      toast(`Created ${body.role} ${body.username}.`);
      await showAdmin();
    });
  } }, field("nu-name", "Username", nu.name), field("nu-role", "Role", nu.role), field("nu-cohort", "Cohort", nu.cohort),
    field("nu-password", "Password", nu.password), h("button", { type: "submit" }, "Add user"), addBox);
  const userRows = users.map((u) => [u.username, u.role, u.cohort,
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", "aria-label": `Move ${u.username} to another cohort`, onclick: () => guarded(userBox, async () => {
        const cohort = prompt(`Cohort for ${u.username}`, u.cohort || "");
        if (cohort === null) return;
        await api(`/v1/users/${u.id}`, { method: "PATCH", body: { cohort: cohort.trim() || null } });
        toast(`${u.username} is now in ${cohort.trim() || "no cohort"}.`);
        await showAdmin();
      }) }, "Cohort"),
      u.id === state.me.id ? null : h("button", { type: "button", class: "secondary", "aria-label": `Delete ${u.username}`, onclick: () => guarded(userBox, async () => {
        if (!confirm(`Delete the login of ${u.username}? Their learning data stays.`)) return;
        await api(`/v1/users/${u.id}`, { method: "DELETE" });
        toast(`Deleted ${u.username}.`);
        await showAdmin();
      }) }, "Delete"),
      h("button", { type: "button", class: "secondary", "aria-label": `Reset password of ${u.username}`, onclick: () => guarded(userBox, async () => {
        const password = prompt(`New password for ${u.username} (8 characters or more)`);
        if (!password) return;
        await api(`/v1/users/${u.id}`, { method: "PATCH", body: { password } });
        toast(`Password of ${u.username} changed.`);
      }) }, "Reset password"),
      u.role === "student" ? h("button", { type: "button", class: "secondary", "aria-label": `Set budget of ${u.username}`, onclick: () => guarded(userBox, async () => {
        const monthly = prompt(`Monthly LLM budget for ${u.username} in USD`, "1.00");
        if (monthly === null) return;
        const m = Number(monthly);
        await api(`/v1/admin/users/${u.id}/budget`, { method: "PUT", body: { monthly_usd: m, daily_usd: Math.min(m, m / 10) } });
        toast(`Budget of ${u.username}: ${usd(m)} a month.`);
      }) }, "Set budget") : null,
      u.role === "tutor" ? h("button", { type: "button", class: "secondary", "aria-label": `Cohorts of ${u.username}`, onclick: () => guarded(userBox, async () => {
        const current = await api(`/v1/admin/users/${u.id}/staff-profile`);
        const list = prompt(`Cohorts ${u.username} serves (comma-separated)`, current.cohorts.join(", "));
        if (list === null) return;
        const name = prompt("Name shown to students", current.display_name);
        await api(`/v1/admin/users/${u.id}/staff-profile`, { method: "PUT",
          body: { cohorts: list.split(",").map((c) => c.trim()).filter(Boolean), display_name: name || current.display_name } });
        toast(`${u.username} now serves ${list || "no cohort"}.`);
      }) }, "Cohorts served") : null)]);
  const esc = health.escalations;
  page("Admin",
    h("section", { "aria-labelledby": "s-health" }, h("h3", { id: "s-health" }, "Platform health"),
      h("dl", { class: "facts" },
        h("dt", {}, "Database"), h("dd", {}, `${health.database} (${health.profile} profile)`),
        h("dt", {}, "Agents"), h("dd", {}, health.tutor_ready ? "ready" : "not ready"),
        h("dt", {}, "Escalations"), h("dd", { class: esc.overdue ? "bad" : "" }, `${esc.open} open, ${esc.claimed} claimed, ${esc.overdue} overdue (SLA ${health.escalation_sla_minutes} min)`),
        h("dt", {}, "Grading backlog"), h("dd", {}, `${health.submissions_queued} queued${health.oldest_queued_s ? `, oldest ${duration(health.oldest_queued_s)}` : ""}; last graded ${when(health.last_graded_at)}`),
        h("dt", {}, "Undelivered events"), h("dd", {}, String(health.events_undelivered)),
        h("dt", {}, "Users"), h("dd", {}, Object.entries(health.users).map(([r, n]) => `${n} ${r}`).join(", ")))),
    h("section", { "aria-labelledby": "s-cohorts" }, h("h3", { id: "s-cohorts" }, "Cohorts"),
      table("Cohorts and their members", ["Cohort", "Students", "Teachers", "Tutors"], cohorts.map((c) => [c.cohort, c.students, c.teachers, c.tutors]))),
    h("section", { "aria-labelledby": "s-import" }, h("h3", { id: "s-import" }, "Import a roster"), importForm),
    h("section", { "aria-labelledby": "s-users" }, h("h3", { id: "s-users" }, "Users"), addForm, userBox,
      table("All users", ["Username", "Role", "Cohort", "Actions"], userRows)));
}

async function showAudit() {
  const entries = await api("/v1/audit?limit=300");
  page("Audit log", h("p", {}, "Every time staff opened or acted on a student's data: who, what, when (newest first)."),
    table("Staff access to student data", ["When", "Who", "Role", "What", "Student", "Record"],
      entries.map((e) => [when(e.at), e.actor, e.actor_role, e.action.replaceAll("_", " "), e.student || "\u2013", e.target])));
}

// --- A/B experiments ------------------------------------------------------------------------------
const VERDICTS = { collecting: "collecting evidence", no_difference: "no clear difference", retire: "retire the loser" };
const gainText = (a) => (a.gain === null ? "\u2013" : a.low === null ? a.gain.toFixed(4)
  : `${a.gain.toFixed(4)} [${a.low.toFixed(4)}, ${a.high.toFixed(4)}]`);

async function showExperiments() {
  const found = await api("/v1/experiments");
  const arms = found.flatMap((e) => ["A", "B"].map((arm) => ({ e, arm, a: e.arms[arm] })));
  const colour = (arm, light) => (arm === "A" ? (light ? "#8ab4f8" : "#0b57d0") : (light ? "#f6aea9" : "#b3261e"));
  const gainChart = chart("Mastery gain per attempt by arm, with 95% intervals", {
    type: "bar",
    data: { labels: arms.map(({ e, arm }) => `${e.title} \u00b7 ${arm}`),
            datasets: [{ type: "bar", label: "95% interval", data: arms.map(({ a }) => (a.low === null ? null : [a.low, a.high])),
                         backgroundColor: arms.map(({ arm }) => colour(arm, true)), maxBarThickness: 12, order: 2 },
                       { type: "line", label: "mean gain per attempt", data: arms.map(({ a }) => a.gain), showLine: false,
                         pointRadius: 6, pointStyle: "rectRot", backgroundColor: arms.map(({ arm }) => colour(arm, false)),
                         borderColor: arms.map(({ arm }) => colour(arm, false)), order: 1 }] },
    options: { scales: { y: { grace: "10%", title: { display: true, text: "BKT p_known gain per attempt" } } } },
  });
  const rows = found.map((e) => [e.title, `${e.arms.A.students} / ${e.arms.A.attempts}`, gainText(e.arms.A),
    `${e.arms.B.students} / ${e.arms.B.attempts}`, gainText(e.arms.B),
    e.difference ? `${e.difference.estimate.toFixed(4)} [${e.difference.low.toFixed(4)}, ${e.difference.high.toFixed(4)}]` : "\u2013",
    VERDICTS[e.verdict] + (e.loser ? ` (${e.loser})` : ""), e.retired ? `${e.retired} retired` : "both in use"]);
  const rule = found.length ? found[0].rule : null;
  const parts = [h("p", {}, "Each topic's practice items come in two wordings, A and B; each student always sees the same one. ",
    rule ? `A wording is retired when both arms have ${rule.min_students_per_arm} students and ${rule.min_attempts_per_arm} attempts `
      + "and the 95% interval of B \u2212 A excludes 0 (docs/assessment.md)." : ""),
  gainChart, table("Gain per attempt by arm (students / attempts; mean [95% interval])",
    ["Topic", "A: students / attempts", "A: gain", "B: students / attempts", "B: gain", "B \u2212 A", "Verdict", "Wordings"], rows)];
  if (state.me.role === "admin" && found.length) {
    const box = errorBox();
    const pick = h("select", { id: "exp-pick" }, found.filter((e) => !e.retired).map((e) => h("option", { value: e.id }, e.title)));
    const arm = h("select", { id: "exp-arm" }, ["A", "B"].map((v) => h("option", { value: v }, v)));
    const force = h("input", { id: "exp-force", type: "checkbox" });
    const reason = h("input", { id: "exp-reason", maxlength: "80" });
    parts.push(h("form", { class: "inline-form", "aria-label": "Retire a wording", onsubmit: (ev) => {
      ev.preventDefault();
      guarded(box, async () => {
        if (force.checked && !reason.value.trim()) throw new Error("Give a reason to override the rule.");
        const body = { variant: arm.value, override: force.checked ? reason.value.trim() : null };
        const done = await api(`/v1/experiments/${encodeURIComponent(pick.value)}/retire`, { method: "POST", body });
        toast(`Retired wording ${done.retired} of ${done.evidence.title}.`);
        await showExperiments();
      });
    } }, h("label", { for: "exp-pick" }, "Topic"), pick, h("label", { for: "exp-arm" }, "Wording"), arm,
      h("label", { for: "exp-force" }, "Override the rule"), force, h("label", { for: "exp-reason" }, "Reason"), reason,
      h("button", { type: "submit" }, "Retire"), box));
  }
  page("A/B experiments", ...(found.length ? parts : [h("p", {}, "No practice on A/B items yet.")]));
}

// --- routing and sign-in --------------------------------------------------------------------------
const ROUTES = {
  dashboard: (arg) => showDashboard(arg && decodeURIComponent(arg)),
  inbox: showInbox, escalation: showEscalation, student: showStudent, quizzes: showQuizzes,
  quiz: (id, cohort) => showQuizReport(id, cohort && decodeURIComponent(cohort)), admin: showAdmin, audit: showAudit,
  experiments: showExperiments,
};

function home() { return state.me.role === "tutor" ? "#/inbox" : "#/dashboard"; }

// One view at a time: a view still loading when the hash changes finishes first, and `page` then
// drops what it renders (its hash is no longer the current one) before the next view starts.
function route() {
  const previous = state.loading;
  state.loading = (async () => { await previous; await show(); })();
  return state.loading;
}

async function show() {
  if (!location.hash) history.replaceState(null, "", home());
  state.routeHash = location.hash;
  const [name, ...args] = location.hash.replace(/^#\//, "").split("/");
  const view = ROUTES[name];
  if (!view) { location.hash = home(); return; }
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.getAttribute("href") === `#/${name}`) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  try { await view(...args); } catch (err) {
    if (err.status !== 401) page("Something went wrong", h("p", { class: "error", role: "alert" }, err.message));
  }
}

function signOut() {
  sessionStorage.removeItem("tm_token");
  location.href = "/";
}

async function start() {
  if (!state.token) { location.href = "/"; return; }
  state.me = await api("/v1/auth/me");
  if (state.me.role === "student") { location.href = "/"; return; }
  $("who").textContent = `Signed in as ${state.me.username} (${state.me.role})`;
  for (const a of document.querySelectorAll("#nav a")) a.hidden = !a.dataset.roles.split(" ").includes(state.me.role);
  $("who").hidden = $("logout").hidden = $("nav").hidden = false;
  $("logout").addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  await route();
}

start().catch(() => { /* signOut already redirected on 401 */ });
