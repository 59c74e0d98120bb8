"use strict";
// The console's only script: poll the panels, run the "try it" box, send admin actions.
// Panels arrive as HTML the server rendered with autoescaping; anything this script shows
// itself (answers, errors) goes through textContent, never innerHTML.
(function () {
  const body = document.body;
  const pollMs = Number(body.dataset.pollMs) || 3000;

  async function refresh() {
    try {
      const response = await fetch("console/panels", { cache: "no-store" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const panels = await response.json();
      for (const [id, html] of Object.entries(panels.html)) {
        const target = document.querySelector("#" + id + " > .body");
        if (!target || target.innerHTML === html) continue;
        const open = new Set([...target.querySelectorAll("details[open]")].map((d) => d.id));
        const closed = new Set([...target.querySelectorAll("details:not([open])")].map((d) => d.id));
        target.innerHTML = html;
        for (const details of target.querySelectorAll("details[id]")) {  // what the operator opened stays open
          if (open.has(details.id)) details.open = true;
          if (closed.has(details.id)) details.open = false;
        }
      }
      document.getElementById("updated").textContent = "updated " + panels.generated;
    } catch (error) {
      document.getElementById("updated").textContent = "update failed (" + error.message + "); retrying";
    }
  }
  setInterval(refresh, pollMs);

  // direction controls in a title or query (U+202E...) are shown as their code point, not obeyed,
  // as the server's templates show them
  const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
  function shown(text) {
    return String(text).replace(BIDI, (c) => "[U+" + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0") + "]");
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = shown(text);
    if (className) node.className = className;
    return node;
  }

  document.getElementById("try-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const out = document.getElementById("try-result");
    // several titles are a history: one `movie` parameter each, in the order typed
    const titles = document.getElementById("try-movie").value.split(";").map((t) => t.trim()).filter((t) => t);
    const params = new URLSearchParams(titles.length > 1 ? titles.map((t) => ["movie", t]) : [["movie", titles[0] || ""]]);
    params.append("k", document.getElementById("try-k").value);
    out.replaceChildren(element("p", "asking…"));
    const response = await fetch("recommend?" + params.toString());
    const answer = await response.json();
    if (!response.ok) {
      const detail = typeof answer.detail === "string" ? answer.detail : answer.detail.map((d) => d.loc.join(".") + ": " + d.msg).join("; ");
      out.replaceChildren(element("p", "HTTP " + response.status + ": " + detail, "bad"));
      return;
    }
    const nodes = answer.seeds ? historyHead(answer) : [matchHead(answer.match)];
    if (answer.alternatives && answer.alternatives.length) {
      nodes.push(element("p", "Also titled so: " + answer.alternatives.map((a) => a.title + (a.year ? " (" + a.year + ")" : "")).join(", ")));
    }
    const list = element("ol");
    list.id = "try-list";
    for (const item of answer.recommendations) {
      const entry = element("li");
      entry.append(element("strong", item.title), element("span", item.year ? " (" + item.year + ")" : ""), element("span", " — " + item.score));
      entry.append(element("div", item.reasons.join("; "), "reasons"));
      entry.dataset.id = item.id;
      list.append(entry);
    }
    nodes.push(list);
    out.replaceChildren(...nodes);
  });

  function matchHead(match) {
    return element("p", match.title ? "Matched " + match.title + " (" + match.method + ", score " + match.score + ")" : "No title matched: answered by " + match.method);
  }

  function historyHead(answer) {
    const found = answer.seeds.filter((s) => s.match).map((s) => s.match.title + " (" + s.match.method + ", weight " + s.weight + ")");
    const nodes = [element("p", found.length ? "History: " + found.join(", ") : "No title of the history matched: answered by " + answer.method)];
    if (answer.unresolved.length) {
      nodes.push(element("p", "Not found, left out: " + answer.unresolved.join(", ")));
    }
    return nodes;
  }

  // Admin actions: the token is asked once and kept in sessionStorage (this tab only).
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button.admin");
    if (!button) return;
    let token = sessionStorage.getItem("movie_r_admin_token");
    if (!token) {
      token = window.prompt("Admin token (MOVIE_R_ADMIN_TOKEN), kept for this tab only");
      if (!token) return;
      sessionStorage.setItem("movie_r_admin_token", token);
    }
    const action = button.dataset.action;
    const url = action === "promote" ? "admin/promote?version=" + encodeURIComponent(button.dataset.version) : "admin/rollback";
    if (!window.confirm(action === "promote" ? "Promote " + button.dataset.version + " now?" : "Roll back to the previous champion?")) return;
    const response = await fetch(url, { method: "POST", headers: { Authorization: "Bearer " + token } });
    const answer = await response.json();
    if (response.status === 401) sessionStorage.removeItem("movie_r_admin_token");
    window.alert(response.ok ? answer.reason || "done" : "HTTP " + response.status + ": " + (answer.detail || ""));
    refresh();
  });
})();
