// The venue owner dashboard: signs in, then draws a venue's footfall from the JSON API.
"use strict";

const API = "/api/v1";
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const state = {
  token: sessionStorage.getItem("irl-token"),
  refresh: sessionStorage.getItem("irl-refresh"),
  charts: {},
};
window.irlDashboard = state; // tests look at the charts drawn

const $ = (id) => document.getElementById(id);

function keep(tokens) {
  state.token = tokens.access_token;
  state.refresh = tokens.refresh_token;
  sessionStorage.setItem("irl-token", state.token);
  sessionStorage.setItem("irl-refresh", state.refresh);
}

let refreshing = null; // one refresh at a time: a refresh token works once
async function refreshTokens() {
  if (!state.refresh) return false;
  refreshing ??= fetch(`${API}/auth/refresh`, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: state.refresh }),
  })
    .then(async (response) => {
      if (!response.ok) return false;
      keep(await response.json());
      return true;
    })
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

async function api(path, options = {}, retried = false) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const response = await fetch(API + path, { ...options, headers });
  if (response.status === 401 && state.token) {
    // the access token lives 15 minutes: renew it with the refresh token, once
    if (!retried && (await refreshTokens())) return api(path, options, true);
    signOut("Your session has ended; sign in again.");
    throw new Error("signed out");
  }
  return response;
}

async function json(path, options) {
  const response = await api(path, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
  return body;
}

function signOut(message = "") {
  state.token = null;
  state.refresh = null;
  sessionStorage.removeItem("irl-token");
  sessionStorage.removeItem("irl-refresh");
  $("board").hidden = true;
  $("signout").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message;
}

async function signIn(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  $("signin-error").textContent = "";
  try {
    const body = await json("/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ login: form.get("login"), password: form.get("password") }),
    });
    keep(body);
    await openBoard();
  } catch (error) {
    $("signin-error").textContent = error.message;
  }
}

async function openBoard() {
  $("signin").hidden = true;
  $("board").hidden = false;
  $("signout").hidden = false;
  const venues = await allVenues();
  const select = $("venue");
  select.replaceChildren(
    ...venues.map((venue) => new Option(`${venue.name} (#${venue.id})`, venue.id)),
  );
  $("no-venues").hidden = venues.length > 0;
  if (venues.length) await show();
}

async function allVenues() {
  // every venue the owner has, page after page (an owner may have hundreds)
  const venues = [];
  let cursor = null;
  do {
    const query = new URLSearchParams({ limit: "100" });
    if (cursor) query.set("cursor", cursor);
    const page = await json(`/me/venues?${query}`);
    venues.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return venues;
}

function statsPath(suffix = "") {
  // With no dates yet, the API picks the last 30 days in the venue's own time zone.
  const params = new URLSearchParams({ granularity: $("granularity").value });
  if ($("from").value) params.set("from", $("from").value);
  if ($("to").value) params.set("to", $("to").value);
  return `/venues/${$("venue").value}/stats${suffix}?${params}`;
}

async function show(event) {
  if (event) event.preventDefault();
  $("board-error").textContent = "";
  try {
    render(await json(statsPath()));
  } catch (error) {
    $("board-error").textContent = error.message;
  }
}

function number(value) {
  return value === null || value === undefined ? "—" : value.toLocaleString();
}

function renderTotals(stats) {
  const cards = [
    ["Check-ins", stats.total_checkins],
    ["Visitors", stats.unique_visitors],
    ["New", stats.new_visitors],
    ["Returning", stats.returning_visitors],
    ["Meetings hosted", stats.meetings],
  ];
  $("totals").replaceChildren(
    ...cards.map(([name, value]) => {
      const card = document.createElement("div");
      card.className = "card total";
      const figure = document.createElement("strong");
      figure.textContent = number(value);
      const label = document.createElement("span");
      label.textContent = name;
      card.append(figure, label);
      return card;
    }),
  );
  const hidden = stats.series.filter((bucket) => bucket.suppressed).length;
  $("suppression-note").textContent =
    `Figures built from fewer than ${stats.suppression_threshold} people are hidden, and` +
    " so is a second one where the first could be worked out from the rest" +
    ` (${hidden} of ${stats.series.length} periods${stats.suppressed ? ", and the totals" : ""}).`;
}

function bucketLabel(start, granularity) {
  const day = start.slice(0, 10);
  return granularity === "hour" ? `${day} ${start.slice(11, 16)}` : day;
}

function chart(id, type, labels, datasets, stacked = false) {
  if (state.charts[id]) state.charts[id].destroy();
  state.charts[id] = new Chart($(id), {
    type,
    data: { labels, datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      spanGaps: false,
      scales: { x: { stacked }, y: { stacked, beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { display: datasets.length > 1 } },
    },
  });
}

function renderCharts(stats) {
  const labels = stats.series.map((bucket) => bucketLabel(bucket.start, stats.granularity));
  const pick = (key) => stats.series.map((bucket) => bucket[key]);
  chart("chart-checkins", "line", labels, [
    { label: "Check-ins", data: pick("checkins"), borderColor: "#2563eb", tension: 0.2 },
  ]);
  chart(
    "chart-visitors",
    "bar",
    labels,
    [
      { label: "New", data: pick("new_visitors"), backgroundColor: "#16a34a" },
      { label: "Returning", data: pick("returning_visitors"), backgroundColor: "#94a3b8" },
    ],
    true,
  );
  chart("chart-meetings", "bar", labels, [
    { label: "Meetings", data: pick("meetings"), backgroundColor: "#db2777" },
  ]);
}

function renderHeatmap(stats) {
  const table = $("heatmap");
  const most = Math.max(
    1,
    ...stats.weekday_hour.flat().map((cell) => (cell.suppressed ? 0 : cell.checkins)),
  );
  const head = document.createElement("tr");
  head.append(document.createElement("th"));
  for (let hour = 0; hour < 24; hour += 1) {
    const th = document.createElement("th");
    th.textContent = hour % 3 === 0 ? String(hour).padStart(2, "0") : "";
    head.append(th);
  }
  const rows = stats.weekday_hour.map((cells, weekday) => {
    const row = document.createElement("tr");
    const name = document.createElement("th");
    name.textContent = WEEKDAYS[weekday];
    row.append(name);
    cells.forEach((cell, hour) => {
      const td = document.createElement("td");
      if (cell.suppressed) {
        td.className = "suppressed";
        td.title = `${WEEKDAYS[weekday]} ${hour}:00 — hidden (fewer than 5 people)`;
      } else {
        td.style.backgroundColor = `rgba(37, 99, 235, ${0.12 + 0.88 * (cell.checkins / most)})`;
        td.title = `${WEEKDAYS[weekday]} ${hour}:00 — ${cell.checkins} check-ins`;
      }
      row.append(td);
    });
    return row;
  });
  table.replaceChildren(head, ...rows);
  const peak = stats.peak_hour;
  $("peak").textContent = peak
    ? ` · busiest: ${peak.weekday_name} ${String(peak.hour).padStart(2, "0")}:00`
    : "";
}

function render(stats) {
  $("from").value = stats.from;
  $("to").value = stats.to;
  renderTotals(stats);
  renderCharts(stats);
  renderHeatmap(stats);
  document.body.dataset.rendered = `${stats.venue_id}:${stats.from}:${stats.to}`;
}

async function downloadCsv() {
  $("board-error").textContent = "";
  const response = await api(statsPath(".csv"), { headers: { Accept: "text/csv" } });
  if (!response.ok) {
    $("board-error").textContent = (await response.json()).message;
    return;
  }
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || "footfall.csv";
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  $("signin-form").addEventListener("submit", signIn);
  $("query").addEventListener("submit", show);
  $("venue").addEventListener("change", () => {
    $("from").value = "";
    $("to").value = "";
    show();
  });
  $("csv").addEventListener("click", downloadCsv);
  $("signout").addEventListener("click", () => signOut());
  if (state.token) openBoard().catch(() => signOut());
});
