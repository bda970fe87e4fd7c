// audit.js - the auditor's view: the audit log (metadata only), the
// signed checkpoint and inclusion proofs checked in the browser (RFC 9162
// with the page's own WebCrypto SHA-256; `assay verify audit` is the
// offline check), and the exposure ledger.
import { h, table, val, when, field, mount } from "../dom.js";
import { get, getOr, list, listOr } from "../api.js";
import { wire, formErr, input } from "../forms.js";

const PAGE = 50;

// Entries are {seq, time, kind, data: {principal, method, route, object,
// ...}}; older or other shapes fall back to their own fields.
const SKIP = new Set(["kind", "type", "event", "action", "ms", "at_ms", "time_ms", "time", "principal", "user", "actor", "seq", "data"]);
function fields(x) {
	const d = x.data && typeof x.data === "object" ? x.data : {};
	return Object.assign({}, x, d);
}
function summary(e) {
	const x = fields(e.entry || {});
	return Object.entries(x).filter(([k]) => !SKIP.has(k)).map(([k, v]) => k + "=" + (typeof v === "object" ? JSON.stringify(v) : v)).join("  ");
}

export async function auditView(query) {
	const from = Number(new URLSearchParams(query || "").get("from") || 0);
	let page = [];
	try {
		const r = await get("/audit?from=" + from + "&limit=" + PAGE);
		page = Array.isArray(r) ? r : r.items || [];
	} catch (e) { page = []; }
	const filter = h("input", { type: "search", id: "audit-filter", placeholder: "filter this page (action, principal, object)", "aria-label": "Filter the audit entries" });
	const rows = page.map(e => {
		const x = fields(e.entry || {});
		return h("tr", h("td.n", String(e.index)), h("td", when(x.ms || x.at_ms || x.time_ms || x.time)),
			h("td", h("code", val(x.action || x.kind || x.type || x.event || "?", 60))),
			h("td", x.principal !== undefined ? "user #" + x.principal : val(x.user || x.actor || "—", 60)), h("td", val(summary(e), 400)));
	});
	const tbody = h("tbody", rows);
	filter.addEventListener("input", () => {
		const q = filter.value.toLowerCase();
		for (const tr of tbody.children) tr.hidden = q !== "" && !tr.textContent.toLowerCase().includes(q);
	});
	const nav = h("p.actions",
		from > 0 ? h("a", { href: "#/audit?from=" + Math.max(0, from - PAGE) }, "← earlier") : null,
		page.length === PAGE ? h("a", { href: "#/audit?from=" + (from + PAGE) }, "later →") : null);
	const parts = [h("h1", "Audit log"),
		h("p.help", "Metadata only: who did what to which object, when; grants and denials alike. Entries " + from + "–" + (from + page.length - 1) + "."),
		h("div.search", filter),
		page.length ? h("div.tablewrap", h("table", { id: "audit-table" },
			h("thead", h("tr", ["#", "Time", "Action", "Principal", "Details"].map(t => h("th", { scope: "col" }, t)))), tbody))
			: h("p.empty", "No entries."), nav,
		await checkpointBox()];
	return { title: "Audit log", node: h("section", parts) };
}

const hex = b => [...new Uint8Array(b)].map(x => x.toString(16).padStart(2, "0")).join("");
const unhex = s => new Uint8Array((String(s).match(/../g) || []).map(x => parseInt(x, 16)));
async function sha(...parts) {
	const n = parts.reduce((a, p) => a + p.length, 0), buf = new Uint8Array(n);
	let o = 0;
	for (const p of parts) { buf.set(p, o); o += p.length; }
	return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

// RFC 9162 §2.1.3.2: does path prove that leaf is entry index of size?
export async function verifyInclusion(index, size, leaf, path, root) {
	if (index >= size) return false;
	let fn = index, sn = size - 1, r = leaf;
	for (const ph of path) {
		const p = unhex(ph);
		if (sn === 0) return false;
		if ((fn & 1) === 1 || fn === sn) {
			r = await sha(Uint8Array.of(1), p, r);
			if ((fn & 1) === 0) while ((fn & 1) === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
		} else {
			r = await sha(Uint8Array.of(1), r, p);
		}
		fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
	}
	return sn === 0 && hex(r) === String(root).toLowerCase();
}

async function checkpointBox() {
	const cp = await getOr("/audit/checkpoint");
	const out = h("div", { id: "proof-result", role: "status" });
	const box = h("section", { id: "checkpoint" }, h("h2", "Checkpoint and inclusion proofs"));
	if (!cp) {
		box.appendChild(h("p.mute", "No checkpoint is available from the service."));
		return box;
	}
	box.appendChild(h("dl.kv", h("dt", "Tree size"), h("dd", String(cp.size)),
		h("dt", "Root"), h("dd", h("code", { id: "cp-root" }, val(cp.root))),
		h("dt", "Signed note"), h("dd", cp.note || cp.checkpoint ? h("pre", val(cp.note || cp.checkpoint, 4000)) : h("span.mute", "none stored yet"))));
	box.appendChild(h("p.help", "Offline: save the note and run ", h("code", "assay verify audit"), " (checks the signature and that the log still extends it)."));
	const f = h("form.box", { id: "proof-form" },
		field("Entry index", input("index", { type: "number", min: 0, required: true, value: 0 })),
		formErr(), h("div.actions", h("button.primary", { type: "submit" }, "Verify inclusion")));
	wire(f, async v => {
		const idx = Number(v.index);
		const p = await get("/audit/proof?index=" + idx + "&size=" + cp.size);
		const e = await get("/audit?from=" + idx + "&limit=1");
		const item = (Array.isArray(e) ? e : e.items || [])[0];
		let leaf = null;
		if (p.leaf_hash || p.leaf) leaf = unhex(p.leaf_hash || p.leaf);
		else if (item && typeof item.raw === "string") leaf = await sha(Uint8Array.of(0), new TextEncoder().encode(item.raw));
		if (!leaf) throw Object.assign(new Error("The service gave neither the entry's leaf hash nor its exact bytes."), { field: "index" });
		return { idx, ok: await verifyInclusion(idx, cp.size, leaf, p.path || [], cp.root), n: (p.path || []).length };
	}, r => mount(out, h("p", { class: r.ok ? "fl-ok" : "fl-err" }, r.ok
		? "Entry " + r.idx + " is included in the checkpointed tree of " + cp.size + " entries (" + r.n + " hashes checked)."
		: "The proof for entry " + r.idx + " does NOT match the checkpoint's root.")));
	box.appendChild(f);
	box.appendChild(out);
	return box;
}

export async function exposureView() {
	const rows = await list("/exposure");
	const orgs = await listOr("/orgs");
	// developer: an organisation id, or "org-ID"
	const dev = id => { const o = orgs.find(x => String(x.id) === String(id).replace(/^org-/, "")); return o ? val(o.name, 60) : val(id); };
	const byTask = {};
	for (const r of rows) (byTask[r.task] = byTask[r.task] || new Set()).add(String(r.developer));
	return {
		title: "Exposure ledger",
		node: h("section", h("h1", "Exposure ledger"),
			h("p.help", "Every task sent to a developer's model: once sent, a task is burned for that developer. " + Object.keys(byTask).length + " tasks exposed in all."),
			table([
				{ head: "Task", cell: r => h("code", val(r.task, 80)) },
				{ head: "Digest", cell: r => h("code", val(String(r.digest || "").slice(0, 16))) },
				{ head: "Developer", cell: r => dev(r.developer) },
				{ head: "Model", cell: r => val(r.model) },
				{ head: "Run", cell: r => String(r.run) },
				{ head: "When", cell: r => when(r.ms) },
			], rows, "No task has been sent to any developer's model.")),
	};
}
