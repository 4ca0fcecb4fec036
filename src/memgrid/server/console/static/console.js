// memgrid console: plain JavaScript over the REST API, no build step.
// The API key stays in this tab's sessionStorage and travels only in the Authorization header.
// Every piece of stored text reaches the page through textContent, never as HTML.
"use strict";

const KEY = "memgrid.key";
const state = { me: null, renders: 0, keepFlash: false };
const view = () => document.getElementById("view");

// -- small helpers -------------------------------------------------------------------------

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

function when(iso) {
  if (!iso) return "";
  return iso.replace("T", " ").replace(/:\d\d(\.\d+)?(Z|\+00:00)$/, "") + " UTC";
}

function short(text, n) {
  return text.length > n ? text.slice(0, n - 1) + "…" : text;
}

function memLink(m, n = 140) {
  return h("a", { href: `#/memory/${encodeURIComponent(m.id)}` }, short(m.text, n));
}

function userLink(u) {
  return u ? h("a", { href: `#/user/${encodeURIComponent(u)}` }, u) : "";
}

function flash(message, ok = false) {
  const el = document.getElementById("flash");
  el.textContent = message;
  el.className = ok ? "ok" : "";
  el.hidden = !message;
}

function table(headers, rows) {
  return h("table", {},
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { class: /^(#|score|count|memories|rank)/i.test(x) ? "num" : null }, x)))),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: headers.length, class: "muted" }, "Nothing here."))));
}

function status(m) {
  return [
    m.superseded_by ? h("span", { class: "badge old" }, m.valid_to ? `was true until ${when(m.valid_to).slice(0, 10)}` : "replaced") : null,
    m.archived ? h("span", { class: "badge warn" }, "archived") : null,
    m.visibility === "shared" ? h("span", { class: "badge" }, "shared") : null,
  ];
}

async function api(method, path, { query, body } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (Array.isArray(v)) v.forEach((x) => url.searchParams.append(k, x));
    else if (v !== "" && v !== null && v !== undefined) url.searchParams.set(k, v);
  }
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(KEY) || ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401) {
    signOut("Your key is unknown, revoked or expired: sign in again.");
    throw new Error("signed out");
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = Array.isArray(data.detail) ? data.detail.map((d) => `${d.loc.slice(1).join(".")}: ${d.msg}`).join("; ") : data.detail;
    throw new Error(detail || `${response.status} ${response.statusText}`);
  }
  return data;
}

function formValues(form) {
  const out = {};
  for (const [k, v] of new FormData(form).entries()) if (v !== "") out[k] = v;
  return out;
}

function go(page, params) {
  const q = new URLSearchParams(Object.entries(params || {}).filter(([, v]) => v !== "" && v !== undefined && v !== null));
  const target = `#/${page}${q.toString() ? "?" + q : ""}`;
  if (location.hash === target) render(); else location.hash = target;
}

function field(label, input) {
  return h("label", {}, label, input);
}

function input(name, value, attrs = {}) {
  return h("input", { name, value: value ?? "", ...attrs });
}

function select(name, value, options) {
  return h("select", { name }, options.map(([v, text]) => h("option", { value: v, selected: v === (value ?? "") }, text)));
}

// -- sign in -------------------------------------------------------------------------------

function signOut(message) {
  sessionStorage.removeItem(KEY);
  state.me = null;
  if (location.hash !== "#/login") {
    state.keepFlash = true;  // the hashchange this causes must not wipe the message
    location.hash = "#/login";
  }
  flash(message || "");
}

async function login() {
  document.getElementById("nav").hidden = true;
  document.getElementById("signout").hidden = true;
  document.getElementById("who").textContent = "";
  const form = h("form", { class: "card login", onsubmit: async (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, form.elements.key.value.trim());
    try {
      state.me = await api("GET", "/v1/me");
      flash("");
      location.hash = "#/memories";
    } catch (err) {
      if (err.message !== "signed out") flash(err.message);
      else flash("That key is unknown, revoked or expired.");
    }
  } },
  h("h1", {}, "Sign in"),
  h("p", { class: "muted" }, "Paste an API key (mg_…). It stays in this tab only and is forgotten when the tab closes."),
  field("API key", h("input", { name: "key", type: "password", autocomplete: "off", required: true, id: "key" })),
  h("p", {}, h("button", { type: "submit" }, "Sign in")));
  view().replaceChildren(form);
}

// -- memories ------------------------------------------------------------------------------

async function memories(params) {
  const form = h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); go("memories", formValues(form)); } },
    field("User", input("user_id", params.get("user_id"), { size: 12 })),
    field("Agent", input("agent_id", params.get("agent_id"), { size: 10 })),
    field("Session", input("session_id", params.get("session_id"), { size: 10 })),
    field("Kind", select("kind", params.get("kind"), [["", "any"], ["message", "message"], ["fact", "fact"], ["event", "event"],
      ["summary", "summary"], ["topic", "topic"], ["procedure", "procedure"], ["profile", "profile"]])),
    field("Visibility", select("visibility", params.get("visibility"), [["", "any"], ["private", "private"], ["shared", "shared"]])),
    field("Said from", input("event_after", params.get("event_after"), { type: "date" })),
    field("to", input("event_before", params.get("event_before"), { type: "date" })),
    field("Archived", select("archived", params.get("archived"), [["", "both"], ["false", "live only"], ["true", "archived only"]])),
    field("Order", select("order", params.get("order") || "newest", [["newest", "newest first"], ["oldest", "oldest first"]])),
    h("button", { type: "submit" }, "Filter"));
  view().replaceChildren(h("h1", {}, "Memories"), form, h("p", { class: "muted" }, "Loading…"));
  const query = Object.fromEntries(params.entries());
  query.order = query.order || "newest";
  query.limit = 50;
  if (query.event_before) query.event_before += "T23:59:59Z";
  const page = await api("GET", "/v1/memories", { query });
  const rows = page.items.map((m) => h("tr", { class: m.superseded_by ? "replaced" : null },
    h("td", {}, when(m.event_time || m.created_at)), h("td", {}, userLink(m.user_id)), h("td", {}, m.agent_id || ""),
    h("td", {}, m.kind), h("td", {}, memLink(m), " ", status(m))));
  const pager = h("div", { class: "pager" },
    params.get("cursor") ? h("button", { class: "secondary", type: "button", onclick: () => history.back() }, "Previous") : null,
    page.next_cursor ? h("button", { class: "secondary", type: "button", id: "next",
      onclick: () => go("memories", { ...Object.fromEntries(params.entries()), cursor: page.next_cursor }) }, "Next page") : null,
    h("span", { class: "muted" }, `${page.items.length} shown`));
  view().replaceChildren(h("h1", {}, "Memories"), form, table(["When", "User", "Agent", "Kind", "Text"], rows), pager);
}

// -- one memory ----------------------------------------------------------------------------

async function memory(id) {
  const path = `/v1/memories/${encodeURIComponent(id)}`;
  const m = await api("GET", path);
  const [hist, chain, related, graph] = await Promise.all([
    api("GET", `${path}/history`), api("GET", `${path}/chain`), api("GET", `${path}/related`, { query: { limit: 20 } }),
    api("GET", `${path}/graph`, { query: { depth: 2, limit: 40 } })]);
  const p = m.provenance;
  const fields = [["Kind", m.kind], ["User", userLink(m.user_id)], ["Agent", m.agent_id], ["Session", m.session_id ?
    h("a", { href: `#/memories?user_id=${encodeURIComponent(m.user_id || "")}&session_id=${encodeURIComponent(m.session_id)}&order=oldest` }, m.session_id) : ""],
  ["Role / speaker", [m.role, m.speaker].filter(Boolean).join(" / ")], ["Visibility", m.visibility],
  ["Said at", when(m.event_time)], ["Stored", when(m.created_at)], ["Updated", `${when(m.updated_at)} (version ${m.version})`],
  ["Fact", m.fact_key ? `${m.fact_key} = ${m.fact_value ?? ""}` : ""], ["Importance", m.importance],
  ["Recalled", `${m.access_count} times${m.last_accessed_at ? ", last " + when(m.last_accessed_at) : ""}`],
  ["Written by", [p.writer, p.agent_id && `agent ${p.agent_id}`, `${p.source}, ${p.method}`].filter(Boolean).join(" · ")],
  ["Evidence", p.source_ids.length ? p.source_ids.map((s) => h("span", {}, h("a", { href: `#/memory/${encodeURIComponent(s)}` }, s), " ")) : ""],
  ["Metadata", Object.keys(m.metadata).length ? JSON.stringify(m.metadata) : ""], ["Id", m.id]];
  let validity = "Current.";
  if (m.superseded_by) {
    validity = h("span", {}, `True from ${when(m.valid_from || m.event_time || m.created_at)} until ${when(m.valid_to)}, replaced by `,
      h("a", { href: `#/memory/${encodeURIComponent(m.superseded_by)}` }, "the newer memory"), ".");
  } else if (m.supersedes) {
    validity = h("span", {}, `True since ${when(m.valid_from || m.event_time || m.created_at)}; it replaced `,
      h("a", { href: `#/memory/${encodeURIComponent(m.supersedes)}` }, "an older memory"), ".");
  }
  const chainRows = chain.map((c) => h("tr", { class: c.id === m.id ? "current-row" : (c.superseded_by ? "replaced" : null) },
    h("td", {}, c.id === m.id ? h("strong", {}, short(c.text, 120)) : memLink(c, 120)),
    h("td", {}, when(c.valid_from || c.event_time || c.created_at)), h("td", {}, c.valid_to ? when(c.valid_to) : "still true")));
  const histRows = hist.map((e) => h("tr", {}, h("td", { class: "num" }, e.version), h("td", {}, e.event), h("td", {}, when(e.at)),
    h("td", {}, e.actor || ""), h("td", {}, short(e.text, 160))));
  const relRows = related.map((r) => h("tr", {}, h("td", {}, memLink(r.memory, 120)), h("td", {}, r.kinds.join(", ")),
    h("td", { class: "num" }, r.weight.toFixed(2))));
  const graphBox = h("div", { id: "graph" });
  view().replaceChildren(
    h("h1", {}, "Memory"),
    h("div", { class: "card" }, h("div", { class: "memtext", id: "memtext" }, m.text), h("p", {}, status(m))),
    h("div", { class: "cols" },
      h("div", { class: "card" }, h("dl", { class: "fields" }, fields.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "")]))),
      h("div", {},
        h("h2", {}, "Validity"), h("p", { id: "validity" }, validity),
        h("h2", {}, "Supersession chain"), table(["Version of the fact", "True from", "Until"], chainRows),
        h("h2", {}, "History"), table(["#", "Event", "At", "By", "Text"], histRows))),
    h("h2", {}, "Related memories"), table(["Memory", "Link", "Weight"], relRows),
    h("h2", {}, `Link graph (${graph.nodes.length} memories, ${graph.edges.length} links)`),
    h("p", { class: "muted" }, Object.entries(LINK_COLOURS).map(([kind, colour]) =>
      h("span", { class: "legend" }, h("span", { class: "swatch", style: `background:${colour}` }), kind))), graphBox);
  await drawGraph(graphBox, graph);
}

const LINK_COLOURS = { similar: "#98a2b3", entity: "#f79009", member: "#2f5bd3", next: "#12b76a" };

// cytoscape (430 kB) is fetched the first time a graph is drawn, not with every page
let cytoscapeLoading = null;
function loadCytoscape() {
  cytoscapeLoading = cytoscapeLoading || new Promise((resolve, reject) => {
    const script = h("script", { src: "/ui/static/vendor/cytoscape.min.js" });
    script.addEventListener("load", resolve);
    script.addEventListener("error", () => { cytoscapeLoading = null; reject(new Error("could not load the graph library")); });
    document.head.append(script);
  });
  return cytoscapeLoading;
}

async function drawGraph(box, graph) {
  if (graph.nodes.length >= 2) await loadCytoscape();
  if (typeof cytoscape !== "function" || graph.nodes.length < 2) {
    box.replaceChildren(h("p", { class: "muted", style: "padding:1rem" }, "No links to draw."));
    box.style.height = "auto";
    return;
  }
  const cy = cytoscape({
    container: box,
    elements: [
      ...graph.nodes.map((n) => ({ data: { id: n.id, label: short(n.text, 40), center: n.id === graph.center ? 1 : 0 } })),
      ...graph.edges.map((e) => ({ data: { id: `${e.source}>${e.target}`, source: e.source, target: e.target,
        colour: LINK_COLOURS[e.kinds[0]] || "#98a2b3", width: 1 + 3 * e.weight } })),
    ],
    style: [
      { selector: "node", style: { label: "data(label)", "font-size": 9, "text-wrap": "ellipsis", "text-max-width": 120,
        "background-color": "#84adff", width: 14, height: 14 } },
      { selector: "node[center = 1]", style: { "background-color": "#2f5bd3", width: 24, height: 24, "font-weight": "bold" } },
      { selector: "edge", style: { "line-color": "data(colour)", width: "data(width)", "curve-style": "bezier", opacity: 0.8 } },
    ],
    layout: { name: "cose", animate: false, nodeRepulsion: 9000 },
    maxZoom: 1.6,
  });
  cy.on("tap", "node", (e) => { location.hash = `#/memory/${encodeURIComponent(e.target.id())}`; });
  box.dataset.nodes = String(graph.nodes.length);
}

// a ranked channel has its 1-based rank; a rerank stage (rank 0) shows the adjustment it made
function channelCell(c) {
  if (!c) return "–";
  return c.rank > 0 ? `#${c.rank} · ${c.score.toFixed(3)}` : `adj ${c.score >= 0 ? "+" : ""}${c.score.toFixed(3)}`;
}

// -- search --------------------------------------------------------------------------------

async function search(params) {
  const form = h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); go("search", formValues(form)); } },
    field("Query", input("q", params.get("q"), { size: 48, required: true, id: "q" })),
    field("Session", input("session_id", params.get("session_id"), { size: 10 })),
    field("True at (as of)", input("as_of", params.get("as_of"), { type: "date" })),
    field("Token budget", input("budget", params.get("budget") || "800", { type: "number", min: 16, max: 100000, size: 6 })),
    field("Archived", select("archived", params.get("archived"), [["", "leave out"], ["true", "include"]])),
    h("button", { type: "submit" }, "Search"));
  const head = [h("h1", {}, "Search as the agent sees it"),
    h("p", { class: "muted" }, "What this key's holder would recall: each channel's rank and score, and the context block an agent receives.")];
  if (!params.get("q")) { view().replaceChildren(...head, form); return; }
  view().replaceChildren(...head, form, h("p", { class: "muted" }, "Searching…"));
  const body = { query: params.get("q"), limit: 20, session_id: params.get("session_id") || null,
    as_of: params.get("as_of") ? params.get("as_of") + "T23:59:59Z" : null, include_archived: params.get("archived") === "true" };
  const [hits, ctx] = await Promise.all([api("POST", "/v1/memories/search", { body }),
    api("POST", "/v1/context", { body: { query: body.query, token_budget: Number(params.get("budget") || 800) } })]);
  const channels = [...new Set(hits.flatMap((x) => Object.keys(x.explain)))].sort();
  const rows = hits.map((x, i) => h("tr", { class: x.memory.superseded_by ? "replaced" : null },
    h("td", { class: "num" }, i + 1), h("td", { class: "num" }, x.score.toFixed(4)),
    h("td", {}, memLink(x.memory), " ", status(x.memory), h("div", { class: "muted" }, `${x.memory.user_id || ""} · ${when(x.memory.event_time || x.memory.created_at)}`)),
    channels.map((c) => h("td", { class: "num" }, channelCell(x.explain[c])))));
  view().replaceChildren(...head, form,
    h("h2", {}, `Hits (${hits.length})`), table(["#", "Score", "Memory", ...channels], rows),
    h("p", { class: "muted" }, "Each channel: the hit's rank in it and its raw score; rerank stages show the adjustment they made (adj)."),
    h("h2", {}, `Context block (${ctx.tokens} tokens)`), h("pre", { class: "context", id: "context" }, ctx.context || "(empty: nothing relevant)"));
}

// -- users: timeline and profile -----------------------------------------------------------

async function users() {
  const form = h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); location.hash = `#/user/${encodeURIComponent(form.elements.user.value.trim())}`; } },
    field("User id", input("user", "", { required: true })), h("button", { type: "submit" }, "Open"));
  const owners = await api("GET", "/v1/users");
  const rows = owners.map((o) => h("tr", {}, h("td", {}, userLink(o.user_id)), h("td", {}, o.agent_id || ""),
    h("td", { class: "num" }, o.memories), h("td", { class: "num" }, o.sessions), h("td", {}, when(o.last_at))));
  const parts = [h("h1", {}, "Users"), form, table(["User", "Agent", "Memories", "Sessions", "Latest"], rows)];
  view().replaceChildren(...parts);
}

async function user(id) {
  const [sessions, profile] = await Promise.all([api("GET", "/v1/sessions", { query: { user_id: id, limit: 200 } }),
    api("GET", "/v1/lifecycle/profile", { query: { user_id: id } })]);
  const byDay = new Map();
  for (const s of sessions) {
    const day = s.first_at.slice(0, 10);
    if (!byDay.has(day)) byDay.set(day, []);
    byDay.get(day).push(s);
  }
  const timeline = [...byDay.entries()].map(([day, list]) => h("tr", {}, h("td", {}, day), h("td", {}, list.map((s) => h("div", {},
    h("a", { href: `#/memories?user_id=${encodeURIComponent(id)}&session_id=${encodeURIComponent(s.session_id)}&order=oldest` }, s.session_id),
    ` · ${s.memories} memories${s.agent_id ? " · agent " + s.agent_id : ""} · ${when(s.first_at).slice(11)} – ${when(s.last_at)}`)))));
  const facts = Object.entries(profile).sort().map(([key, m]) => h("tr", {}, h("td", {}, key), h("td", {}, m.fact_value || ""),
    h("td", {}, when(m.valid_from || m.event_time || m.created_at)), h("td", {}, memLink(m, 100))));
  view().replaceChildren(h("h1", {}, `User ${id}`),
    h("p", {}, h("a", { href: `#/memories?user_id=${encodeURIComponent(id)}` }, "All memories"), " · ",
      h("a", { href: `#/search` }, "Search")),
    h("div", { class: "cols" },
      h("div", {}, h("h2", {}, "Profile: what is true now"), table(["Attribute", "Value", "Since", "Said in"], facts)),
      h("div", {}, h("h2", {}, `Timeline (${sessions.length} sessions)`), table(["Day", "Sessions"], timeline))));
}

// -- access: principals, keys, grants, settings, erase -------------------------------------

async function access() {
  const admin = state.me.kind === "admin";
  const [principals, keys, grants, settings] = await Promise.all([
    admin ? api("GET", "/v1/admin/principals") : Promise.resolve([state.me]), api("GET", "/v1/keys"), api("GET", "/v1/grants"),
    admin ? api("GET", "/v1/admin/settings") : Promise.resolve(null)]);
  const names = Object.fromEntries(principals.map((p) => [p.id, `${p.name} (${p.id})`]));
  const label = (id) => names[id] || id || "";
  const after = (message) => { flash(message, true); render(); };
  const act = (fn) => async (e) => {
    e.preventDefault();
    try { await fn(e); } catch (err) { flash(err.message); }
  };
  const parts = [h("h1", {}, admin ? "Access" : "Your access")];

  if (admin) {
    const pform = h("form", { class: "filters", id: "new-principal", onsubmit: act(async () => {
      const v = formValues(pform);
      await api("POST", "/v1/admin/principals", { body: { kind: v.kind, name: v.name, acts_for: v.acts_for ? v.acts_for.split(/[ ,]+/) : null } });
      after(`Created ${v.kind} ${v.name}.`);
    }) }, field("Kind", select("kind", "user", [["user", "user"], ["agent", "agent"], ["admin", "admin"]])),
    field("Name", input("name", "", { required: true })), field("Acts for (agents: user ids)", input("acts_for", "")),
    h("button", { type: "submit" }, "Create principal"));
    parts.push(h("h2", {}, "Principals"), table(["Id", "Kind", "Name", "Acts for"], principals.map((p) => h("tr", {},
      h("td", {}, p.id), h("td", {}, p.kind), h("td", {}, p.name), h("td", {}, p.acts_for.map(label).join(", "))))), pform);
  }

  const kform = h("form", { class: "filters", id: "new-key", onsubmit: act(async () => {
    const v = formValues(kform);
    const key = await api("POST", "/v1/keys", { body: { principal_id: v.principal_id, expires_at: v.expires_at ? v.expires_at + "T00:00:00Z" : null } });
    await render();
    view().prepend(h("div", { class: "card" }, h("strong", {}, `New key for ${label(key.principal_id)}. Copy it now: it is never shown again.`),
      h("div", { class: "secret", id: "new-secret" }, key.secret)));
  }) }, field("For", select("principal_id", state.me.id, principals.map((p) => [p.id, label(p.id)]))),
  field("Expires (optional)", input("expires_at", "", { type: "date" })), h("button", { type: "submit" }, "Create key"));
  parts.push(h("h2", {}, "API keys"), table(["Key", "Principal", "Created", "Expires", "State", ""], keys.map((k) => h("tr", {},
    h("td", {}, k.id), h("td", {}, label(k.principal_id)), h("td", {}, when(k.created_at)), h("td", {}, when(k.expires_at) || "never"),
    h("td", {}, k.revoked ? "revoked" : "active"),
    h("td", {}, k.revoked ? "" : h("button", { class: "danger", type: "button", "data-key": k.id, onclick: act(async () => {
      if (!confirm(`Revoke key ${k.id} of ${label(k.principal_id)}? Anyone using it is refused at once.`)) return;
      await api("DELETE", `/v1/keys/${encodeURIComponent(k.id)}`);
      if (k.id === (sessionStorage.getItem(KEY) || "").split("_")[1]) { signOut("You revoked the key you signed in with."); return; }
      after(`Revoked key ${k.id}.`);
    }) }, "Revoke"))))), kform);

  const gform = h("form", { class: "filters", id: "new-grant", onsubmit: act(async () => {
    const v = formValues(gform);
    await api("POST", "/v1/grants", { body: { grantee: v.grantee, owner: v.owner || null, resource: v.resource, value: v.value || null,
      read: true, write: v.write === "on", valid_from: v.valid_from ? v.valid_from + "T00:00:00Z" : null,
      valid_to: v.valid_to ? v.valid_to + "T00:00:00Z" : null } });
    after(`Granted ${label(v.grantee)} access.`);
  }) }, field("Grantee (principal id)", input("grantee", "", { required: true, size: 14 })),
  field("Owner (user id)", input("owner", admin ? "" : state.me.id, { size: 14 })),
  field("Resource", select("resource", "all", [["all", "all shared"], ["session", "a session"], ["tag", "a tag"], ["namespace", "a namespace"]])),
  field("Value", input("value", "", { size: 10 })), field("Write too", h("input", { type: "checkbox", name: "write" })),
  field("From", input("valid_from", "", { type: "date" })), field("Until", input("valid_to", "", { type: "date" })),
  h("button", { type: "submit" }, "Create grant"));
  parts.push(h("h2", {}, "Grants"), h("p", { class: "muted" }, "A grant lets a principal read (or write) an owner's shared memories, within a window."),
    table(["Grant", "Grantee", "Owner", "What", "Rights", "Window", "State", ""], grants.map((g) => h("tr", {},
      h("td", {}, g.id), h("td", {}, label(g.grantee)), h("td", {}, label(g.owner) || "any"), h("td", {}, g.resource + (g.value ? `: ${g.value}` : "")),
      h("td", {}, g.write ? "read, write" : "read"), h("td", {}, `${when(g.valid_from) || "always"} – ${when(g.valid_to) || "open"}`),
      h("td", {}, g.revoked ? "revoked" : "active"),
      h("td", {}, g.revoked ? "" : h("button", { class: "danger", type: "button", "data-grant": g.id, onclick: act(async () => {
        if (!confirm(`Revoke grant ${g.id}? ${label(g.grantee)} loses this access at once.`)) return;
        await api("DELETE", `/v1/grants/${encodeURIComponent(g.id)}`);
        after(`Revoked grant ${g.id}.`);
      }) }, "Revoke"))))), gform);

  if (admin) {
    const sform = h("form", { class: "stack", id: "settings", onsubmit: act(async () => {
      const v = formValues(sform);
      const body = Object.fromEntries(["retention_half_life_days", "retention_weight", "archive_threshold"].map((k) => [k, v[k] ? Number(v[k]) : null]));
      await api("PUT", "/v1/admin/settings", { body });
      after("Tenant settings saved.");
    }) }, field("Retention half-life (days)", input("retention_half_life_days", settings.retention_half_life_days, { type: "number", step: "any" })),
    field("Retention weight (0–1)", input("retention_weight", settings.retention_weight, { type: "number", step: "any" })),
    field("Archive threshold (0–1)", input("archive_threshold", settings.archive_threshold, { type: "number", step: "any" })),
    h("span", {}), h("span", {}, h("button", { type: "submit" }, "Save settings")));
    parts.push(h("h2", {}, "Tenant settings"), h("p", { class: "muted" }, "Empty fields use the server's defaults."), sform);
  }

  const eform = h("form", { class: "filters", id: "erase", onsubmit: act(async () => {
    const userId = eform.elements.user_id.value.trim();
    const preview = await api("GET", "/v1/erase/preview", { query: { user_id: userId } });
    const kinds = Object.entries(preview.by_kind).map(([k, n]) => `${n} ${k}`).join(", ") || "nothing";
    const typed = prompt(`Erasing ${userId} removes ${preview.memories} memories (${kinds}), ${preview.sessions} sessions and ` +
      `${preview.history_entries} history entries, for good. Type the user id to confirm.`);
    if (typed === null) return;
    if (typed.trim() !== userId) { flash("Not erased: the user id typed did not match."); return; }
    const done = await api("POST", "/v1/erase", { body: { user_id: userId } });
    after(`Erased ${userId}: ${done.count} memories removed.`);
  }) }, field("User id", input("user_id", admin ? "" : state.me.id, { required: true })), h("button", { class: "danger", type: "submit" }, "Erase user…"));
  parts.push(h("h2", {}, "Erase a user"), h("p", { class: "muted" }, "Every memory, vector, full-text entry and history entry of the user. You see the counts before you confirm."), eform);
  view().replaceChildren(...parts);
}

// -- audit and stats -----------------------------------------------------------------------

async function audit(params) {
  const form = h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); go("audit", formValues(form)); } },
    field("Principal", input("principal_id", params.get("principal_id"), { size: 14 })),
    field("Action", input("action", params.get("action"), { size: 16, placeholder: "memory.search" })),
    h("button", { type: "submit" }, "Filter"));
  const events = await api("GET", "/v1/audit", { query: { order: "newest", before_id: params.get("before_id"), limit: 50, principal_id: params.get("principal_id"), action: params.get("action") } });
  const rows = events.map((e) => h("tr", {}, h("td", { class: "num" }, e.id), h("td", {}, when(e.at)), h("td", {}, e.principal_id || ""),
    h("td", {}, e.action), h("td", {}, e.target || ""), h("td", {}, e.result), h("td", { class: "muted" }, Object.keys(e.detail).length ? JSON.stringify(e.detail) : "")));
  const older = events.length === 50 ? h("button", { class: "secondary", type: "button",
    onclick: () => go("audit", { ...Object.fromEntries(params.entries()), before_id: events[events.length - 1].id }) }, "Older") : null;
  view().replaceChildren(h("h1", {}, "Audit log"), form, table(["#", "At", "Principal", "Action", "Target", "Result", "Detail"], rows),
    h("div", { class: "pager" }, older));
}

async function stats() {
  const counts = await api("GET", "/v1/stats");
  const recent = state.me.kind === "admin" ? await api("GET", "/v1/audit", { query: { order: "newest", limit: 15 } }) : [];
  // background fact extraction (adds with infer): an agent acting for several users has no one queue to show
  const queue = await api("GET", "/v1/extraction").catch(() => null);
  const mib = (counts.db_bytes / 1048576).toFixed(1);
  const kinds = Object.entries(counts.by_kind).sort((a, b) => b[1] - a[1]).map(([k, n]) => h("tr", {}, h("td", {}, k), h("td", { class: "num" }, n)));
  view().replaceChildren(h("h1", {}, `Stats: ${counts.scope}`),
    h("div", { class: "cols" },
      h("div", { class: "card" }, h("dl", { class: "fields", id: "counts" },
        [["Memories", counts.memories], ["Users", counts.users], ["Sessions", counts.sessions], ["History entries", counts.history_entries],
          ["Vectors", counts.vectors], ["Store size", `${mib} MiB`], ["Embedder", counts.embedder]].map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
      h("p", {}, h("a", { href: "/metrics" }, "Prometheus metrics (/metrics)"), " · ", h("a", { href: "/docs" }, "REST API (/docs)"))),
      h("div", {}, table(["Kind", "Memories"], kinds),
        ...(queue ? [h("h2", {}, "Fact extraction queue"), h("dl", { class: "fields", id: "extraction" },
          [["Pending", queue.pending], ["Running", queue.running], ["Done (7 days)", queue.done], ["Failed", queue.failed]]
            .map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
          ...queue.errors.slice(0, 3).map((e) => h("p", { class: "muted" }, `job ${e.job} (${e.state}, ${e.attempts} attempts): ${e.error}`))] : []))),
    ...(recent.length ? [h("h2", {}, "Recent activity"), table(["At", "Principal", "Action", "Target", "Result"], recent.map((e) =>
      h("tr", {}, h("td", {}, when(e.at)), h("td", {}, e.principal_id || ""), h("td", {}, e.action), h("td", {}, e.target || ""), h("td", {}, e.result))))] : []));
}

// -- router --------------------------------------------------------------------------------

const pages = { memories, search, users, access, audit, stats };

async function render() {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  const params = new URLSearchParams(query || "");
  const [page, ...rest] = path.split("/");
  const arg = decodeURIComponent(rest.join("/"));
  const started = performance.now();
  const mine = ++state.renders;
  document.body.dataset.ready = "0";
  const done = () => {  // tests and the page-load benchmark wait for this mark
    if (mine !== state.renders) return;  // a later navigation owns the page now
    document.body.dataset.renderMs = (performance.now() - started).toFixed(1);
    document.body.dataset.readyAt = performance.now().toFixed(1);  // since the navigation started
    document.body.dataset.ready = "1";
  };
  if (!sessionStorage.getItem(KEY) || page === "login") { await login(); done(); return; }
  try {
    if (!state.me) state.me = await api("GET", "/v1/me");
    document.getElementById("nav").hidden = false;
    document.getElementById("signout").hidden = false;
    document.getElementById("who").textContent = `${state.me.name} · ${state.me.kind} · ${state.me.tenant_id}`;
    for (const a of document.querySelectorAll("nav a")) {
      a.classList.toggle("active", a.dataset.page === page || (page === "memory" && a.dataset.page === "memories") || (page === "user" && a.dataset.page === "users"));
      if (a.hasAttribute("data-admin")) a.hidden = state.me.kind !== "admin";
    }
    if (page === "memory") await memory(arg);
    else if (page === "user") await user(arg);
    else await (pages[page] || memories)(params);
    document.body.dataset.page = page || "memories";
  } catch (err) {
    if (err.message !== "signed out") view().replaceChildren(h("h1", {}, "Not available"), h("p", { id: "error" }, err.message));
  }
  done();
}

function start() {
  // `memgrid ui` opens /ui/#key=...: the key moves to sessionStorage and leaves the address bar
  const m = location.hash.match(/^#key=(.+)$/);
  if (m) {
    sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + "#/memories");
  }
  document.getElementById("signout").addEventListener("click", () => signOut("Signed out."));
  window.addEventListener("hashchange", () => {
    if (!state.keepFlash) flash("");
    state.keepFlash = false;
    render();
  });
  render();
}

document.addEventListener("DOMContentLoaded", start);
