// runs.js - a run's results (the report's charts inline, against its
// reference runs per category) and an episode's transcript as a
// conversation: roles, commands, outputs, truncation marks, a search.
// Only evaluators (and admins) with need-to-know reach these; the server
// refuses everyone else (404), and the pages do not link them for others.
import { h, table, val, when, badge, num, usd, mount, clear } from "../dom.js";
import { get, getOr, list } from "../api.js";
import { reportChart, refsByCategory } from "../charts.js";

const TEXT_CAP = 8000;

export async function runView(id) {
	const r = await get("/runs/" + id);
	const run = r.run || r;
	const tasks = r.tasks || [];
	const parts = [h("h1", "Run " + id), h("dl.kv",
		h("dt", "Model"), h("dd", val(run.model || "—")),
		h("dt", "Suite"), h("dd", val(run.suite || "—")),
		h("dt", "Status"), h("dd", badge(run.status || "—")),
		h("dt", "Started"), h("dd", when(run.started_ms || run.created_ms)),
		h("dt", "Tokens"), h("dd", num((r.totals || {}).tokens)),
		h("dt", "Cost"), h("dd", usd((r.totals || {}).cost_usd)))];
	parts.push(h("p", { id: "run-export" }, "Export: ",
		h("a", { href: "/api/v1/runs/" + id + "/export/inspect.eval", download: "run-" + id + ".eval" }, "Inspect log (.eval)"), " · ",
		h("a", { href: "/api/v1/runs/" + id + "/export/episodes.jsonl", download: "run-" + id + ".jsonl" }, "episodes (.jsonl)"),
		h("span.mute", " — a sealed suite's run without its task text; each download is audited")));
	parts.push(h("h2", "Charts"));
	for (const [name, label] of [["categories", "Solve rate per category"], ["tiers", "Solve rate per difficulty tier"], ["horizon", "Time horizon"], ["refs", "Against reference runs"], ["outcomes", "Outcomes"]])
		parts.push(await reportChart("/api/v1/runs/" + id + "/charts/" + name + ".svg", label));
	const refs = Array.isArray(r.references) ? r.references : [];
	if (refs.length) parts.push(refsByCategory(categoryRates(tasks, refs)));
	parts.push(h("h2", "Tasks"), table([
		{ head: "Task", cell: t => h("code", val(t.id || t.task)) },
		{ head: "Category", cell: t => val(t.category || "—") },
		{ head: "Tier", cell: t => String(t.difficulty || "—"), num: true },
		{ head: "Solved", cell: t => (t.successes || 0) + " / " + (t.epochs || 0), num: true },
	], tasks, "No tasks scored yet."));
	const eps = await getOr("/runs/" + id + "/episodes");
	const items = eps && Array.isArray(eps.items) ? eps.items : [];
	parts.push(h("h2", "Episodes"), table([
		{ head: "Episode", cell: e => h("a", { href: "#/runs/" + id + "/episodes/" + e.id }, "#" + e.id) },
		{ head: "Task", cell: e => h("code", val(e.task_id)) },
		{ head: "Epoch", cell: e => String(e.epoch), num: true },
		{ head: "Outcome", cell: e => badge(e.outcome || e.status) },
		{ head: "Turns", cell: e => num(e.turns), num: true },
	], items, "No episodes visible."));
	return { title: "Run " + id, node: h("section", parts) };
}

function categoryRates(tasks, refs) {
	const by = {};
	const addTo = (key, t, slot) => {
		const c = by[t.category || "other"] = by[t.category || "other"] || { name: t.category || "other", s: {}, n: {} };
		c.s[slot] = (c.s[slot] || 0) + (t.successes || 0);
		c.n[slot] = (c.n[slot] || 0) + (t.epochs || 0);
	};
	for (const t of tasks) addTo("cand", t, "cand");
	refs.forEach((ref, i) => (ref.tasks || []).forEach(t => addTo("r", t, "r" + i)));
	return Object.values(by).map(c => ({
		name: c.name,
		cand: c.n.cand ? c.s.cand / c.n.cand : 0,
		refs: refs.map((ref, i) => ({ name: "run " + (ref.run || ref.id || i + 1), rate: c.n["r" + i] ? c.s["r" + i] / c.n["r" + i] : 0 })),
	}));
}

function capped(text) {
	const s = String(text === undefined || text === null ? "" : text);
	if (s.length <= TEXT_CAP) return [h("pre", val(s, TEXT_CAP))];
	return [h("pre", val(s.slice(0, TEXT_CAP), TEXT_CAP)), h("p.trunc", "[cut here: " + (s.length - TEXT_CAP) + " more characters; `assay show` prints it whole]")];
}

// One journaled event as a message of the conversation.
function message(ev) {
	const d = ev.data && typeof ev.data === "object" ? ev.data : (() => { try { return JSON.parse(ev.data); } catch (e) { return { text: ev.data }; } })();
	const head = (role, extra) => h("div.who", role, extra ? " · " + extra : "", " · #" + ev.seq + " · ", when(ev.at_ms));
	const trunc = d.truncated || d.output_truncated ? h("p.trunc", "[the harness cut this output: " + (d.truncated_bytes || d.omitted_bytes || "some") + " bytes not shown to the model]") : null;
	if (ev.kind === "model") {
		return h("article.msg.r-assistant", head("model", (d.prompt_tokens || 0) + "+" + (d.completion_tokens || 0) + " tokens, stop " + (d.stop || "?")),
			d.text ? capped(d.text) : null, d.error ? [h("p.error", "error"), capped(d.error)] : null,
			(d.tool_calls || []).map(c => [h("p", "calls ", h("code", val(c.name))), capped(c.arguments)]));
	}
	if (ev.kind === "tool") {
		return h("article.msg.r-tool", head("tool " + (d.name || ""), d.error ? "error" : ""),
			h("p.mute", "command"), capped(d.arguments), h("p.mute", "output"), capped(d.output), trunc);
	}
	if (ev.kind === "prompt" || ev.kind === "system" || ev.kind === "user") {
		return h("article.msg.r-" + (ev.kind === "system" ? "system" : "user"), head(ev.kind), capped(d.text || d.content || d.note || ""));
	}
	if (ev.kind === "score") return h("article.msg.r-score", head("score"), capped(JSON.stringify(d, null, 1)));
	return h("article.msg.r-system", head(ev.kind || "event"), capped(d.note || JSON.stringify(d, null, 1)), trunc);
}

export async function episodeView(run, ep) {
	const e = await get("/runs/" + run + "/episodes/" + ep);
	const evs = await list("/runs/" + run + "/episodes/" + ep + "/events");
	const conv = h("div.conv", { id: "transcript" }, evs.map(message));
	const q = h("input", { type: "search", id: "q", name: "q", placeholder: "search the transcript", "aria-label": "Search the transcript" });
	const count = h("span.mute", { id: "hits", "aria-live": "polite" });
	const only = h("input", { type: "checkbox", id: "only" });
	const apply = () => {
		const needle = q.value.trim().toLowerCase();
		let hits = 0;
		for (const m of conv.children) {
			const hit = needle !== "" && m.textContent.toLowerCase().includes(needle);
			m.classList.toggle("hit", hit);
			m.hidden = only.checked && needle !== "" && !hit;
			if (hit) hits++;
		}
		count.textContent = needle ? hits + " of " + conv.children.length + " messages match" : "";
		const firstHit = conv.querySelector(".hit");
		if (firstHit && needle) firstHit.scrollIntoView({ block: "nearest" });
	};
	q.addEventListener("input", apply);
	only.addEventListener("change", apply);
	return {
		title: "Episode " + ep + " of run " + run,
		node: h("section", h("h1", "Episode " + ep), h("p", h("a", { href: "#/runs/" + run }, "Run " + run)),
			h("dl.kv",
				h("dt", "Task"), h("dd", h("code", val(e.task_id))),
				h("dt", "Epoch / attempt"), h("dd", e.epoch + " / " + e.attempt),
				h("dt", "Outcome"), h("dd", badge(e.outcome || e.status)),
				h("dt", "Turns"), h("dd", num(e.turns)),
				h("dt", "Tokens"), h("dd", num((e.prompt_tokens || 0) + (e.completion_tokens || 0)))),
			h("h2", "Transcript"),
			h("div.search", q, h("label", only, " only matching"), count),
			conv),
	};
}
