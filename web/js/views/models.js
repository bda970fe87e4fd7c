// models.js - models and their access windows: the timeline, registering
// a model (its credential is sealed at once and never shown), opening and
// closing windows, trusted partners.
import { h, table, val, when, badge, field } from "../dom.js";
import { list, listOr, get, post } from "../api.js";
import { hasRole, flash, render, confirmAction, go } from "../app.js";
import { wire, formErr, select, input, actionButton } from "../forms.js";
import { windowsTimeline } from "../charts.js";

function modelName(m) { return [val(m.name, 80), " ", val(m.version, 40)]; }

export async function modelsView() {
	const models = await list("/models");
	const windows = await listOr("/windows");
	const orgs = await listOr("/orgs");
	const orgName = id => { const o = orgs.find(x => String(x.id) === String(id)); return o ? val(o.name, 60) : "#" + id; };
	const parts = [h("h1", "Models and windows"),
		models.length ? windowsTimeline(models, windows) : null,
		table([
			{ head: "Model", cell: m => h("a", { href: "#/models/" + m.id }, modelName(m)) },
			{ head: "Developer", cell: m => orgName(m.org_id) },
			{ head: "Release date", cell: m => m.release_date || "—" },
			{ head: "Access", cell: m => m.access },
			{ head: "Window", cell: m => windowState(windows.filter(w => String(w.model_id) === String(m.id))) },
		], models, "No models registered yet.")];
	if (hasRole("developer", "liaison")) parts.push(registerForm(orgs));
	return { title: "Models and windows", node: h("section", parts) };
}

function windowState(ws) {
	const open = ws.find(w => w.state === "open");
	if (open) return [badge("open"), " until ", when(open.end_ms)];
	const sched = ws.find(w => w.state === "scheduled");
	if (sched) return [badge("scheduled"), " from ", when(sched.start_ms)];
	return ws.length ? badge("closed") : h("span.mute", "none");
}

function registerForm(orgs) {
	const devOrgs = orgs.filter(o => o.kind === "developer");
	const f = h("form.box", { id: "register-model" }, h("h2", "Register a model version"),
		hasRole("liaison") && !hasRole("developer") ? field("Developer", select("org_id", devOrgs.map(o => [o.id, o.name.slice(0, 80)]))) : null,
		field("Name", input("name", { required: true, maxlength: 200 })),
		field("Version", input("version", { required: true, maxlength: 100 })),
		field("Stated release date", input("release_date", { type: "date", required: true }), "A window ends no later than this date."),
		field("Access", select("access", [["api", "API endpoint"], ["dedicated", "dedicated deployment"], ["weights", "weights (self-hosted at the agency)"]])),
		field("Model card: summary", h("textarea", { name: "summary", rows: 3, maxlength: 4000 })),
		field("Intended use", h("textarea", { name: "intended_use", rows: 2, maxlength: 4000 })),
		field("Known limitations", h("textarea", { name: "known_limitations", rows: 2, maxlength: 4000 })),
		field("Endpoint provider", select("provider", [["openai-compatible", "OpenAI-compatible"], ["baseline", "baseline (the agency's built-in reference models)"], ["openai", "OpenAI"], ["anthropic", "Anthropic"]])),
		field("Endpoint base URL", input("base_url", { maxlength: 2000, placeholder: "https://…/v1" })),
		field("Endpoint model name", input("endpoint_model", { maxlength: 200 })),
		field("Credential (API key)", input("credential", { type: "password", autocomplete: "off", maxlength: 8192 }),
			"Sealed in the vault as soon as it arrives; nobody, you included, sees it again. Only the engine uses it, inside an open window."),
		formErr(), h("div.actions", h("button.primary", { type: "submit" }, "Register")));
	return wire(f, v => {
		const body = {
			name: v.name, version: v.version, release_date: v.release_date, access: v.access,
			card: { summary: v.summary, intended_use: v.intended_use, known_limitations: v.known_limitations },
			endpoint: { provider: v.provider, base_url: v.base_url, model: v.endpoint_model },
		};
		if (v.org_id) body.org_id = Number(v.org_id);
		if (v.credential) body.credential = v.credential;
		return post("/models", body);
	}, m => { flash("Model registered; its credential is sealed."); go("#/models/" + m.id); });
}

export async function modelView(id) {
	const m = await get("/models/" + id);
	const windows = (await listOr("/windows?model_id=" + encodeURIComponent(id))).filter(w => String(w.model_id) === String(m.id));
	const partners = hasRole("admin", "liaison", "developer") ? await listOr("/models/" + id + "/partners") : [];
	const orgs = await listOr("/orgs");
	const card = m.card || {}, ep = m.endpoint || {};
	const parts = [h("h1", "Model ", modelName(m)),
		h("dl.kv",
			h("dt", "Release date"), h("dd", m.release_date || "—"),
			h("dt", "Access"), h("dd", m.access),
			h("dt", "Endpoint"), h("dd", val(ep.provider || "—"), " ", val(ep.base_url || ""), " ", val(ep.model || "")),
			h("dt", "Credential"), h("dd", m.has_credential ? [badge("sealed", "ok"), " never shown"] : badge("none", "pending")),
			h("dt", "Registered"), h("dd", when(m.created_ms))),
		h("h2", "Model card"),
		h("dl.kv", h("dt", "Summary"), h("dd", val(card.summary || "—", 4000)),
			h("dt", "Intended use"), h("dd", val(card.intended_use || "—", 4000)),
			h("dt", "Known limitations"), h("dd", val(card.known_limitations || "—", 4000))),
		h("h2", "Access windows"), windowsTimeline([m], windows),
		table([
			{ head: "Window", cell: w => "#" + w.id },
			{ head: "State", cell: w => badge(w.state) },
			{ head: "Start", cell: w => when(w.start_ms) },
			{ head: "End", cell: w => when(w.end_ms) },
			{ head: "Credential", cell: w => w.credential_erased ? badge("erased", "closed") : "kept" },
			{ head: "", cell: w => hasRole("admin") && w.state !== "closed" ? closeButton(w) : "" },
		], windows, "No window yet: no run can start against this model.")];
	if (hasRole("admin")) parts.push(openWindowForm(m));
	if (hasRole("developer", "liaison") && !windows.some(w => w.state === "closed" && w.credential_erased)) parts.push(credentialForm(m));
	if (hasRole("admin", "liaison", "developer")) {
		const name = (oid, p) => { const o = orgs.find(x => String(x.id) === String(oid)); return o ? val(o.name, 60) : p && p.org_name ? val(p.org_name, 60) : "organisation #" + oid; };
		parts.push(h("h2", "Trusted partners"),
			h("p.help", "A partner may run campaigns against this model during its window, through assay, without seeing its credential. The admin and the developer must both designate it."),
			table([
				{ head: "Partner", cell: p => name(p.org_id, p) },
				{ head: "By admin", cell: p => p.by_admin ? "yes" : "no" },
				{ head: "By developer", cell: p => p.by_developer ? "yes" : "no" },
				{ head: "Active", cell: p => p.active ? badge("active", "ok") : badge("pending") },
			], partners, "No partners designated."));
		if (hasRole("admin", "developer")) {
			// partner organisations one can see, and those the other side
			// has designated and this side has not (a developer sees no
			// other organisation, only the designation)
			const side = hasRole("admin") ? "by_admin" : "by_developer";
			const choices = orgs.filter(o => o.kind === "partner").map(o => [o.id, o.name.slice(0, 80)]);
			for (const p of partners) {
				if (!p[side] && !choices.some(c => String(c[0]) === String(p.org_id)))
					choices.push([p.org_id, (p.org_name || "organisation #" + p.org_id).slice(0, 80) + " (designated by the " + (side === "by_admin" ? "developer" : "admin") + ")"]);
			}
			if (choices.length) {
				const f = h("form.box", { id: "designate-partner" },
					field("Partner organisation", select("org_id", choices)),
					formErr(), h("div.actions", h("button", { type: "submit" }, "Designate")));
				parts.push(wire(f, v => post("/models/" + id + "/partners", { org_id: Number(v.org_id) }),
					() => { flash("Designation recorded."); render(); }));
			}
		}
	}
	return { title: "Model " + m.name.slice(0, 60), node: h("section", parts) };
}

function closeButton(w) {
	return actionButton("Close now", async () => {
		if (!await confirmAction("Close window #" + w.id + " now?", "The model's credential is destroyed (crypto-erased) at once; runs in progress stop and no run can start until a new window and credential.", "Close and erase")) return;
		await post("/windows/" + w.id + "/close");
		flash("Window closed; credential erased.");
		render();
	}, "danger");
}

function isoLocal(ms) {
	const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
	return d.toISOString().slice(0, 16);
}

function openWindowForm(m) {
	const now = Date.now();
	let end = now + 30 * 864e5;
	if (m.release_date) end = Math.min(end, Date.parse(m.release_date + "T00:00:00Z"));
	const f = h("form.box", { id: "open-window" }, h("h2", "Open an access window"),
		field("Start (your time zone)", input("start", { type: "datetime-local", required: true, value: isoLocal(now) })),
		field("End (your time zone)", input("end", { type: "datetime-local", required: true, value: isoLocal(Math.max(end, now + 3600e3)) }),
			"At most 30 days, and no later than the stated release date (" + (m.release_date || "none") + "). At the end the credential is erased."),
		formErr(), h("div.actions", h("button.primary", { type: "submit" }, "Open window")));
	return wire(f, v => {
		const s = new Date(v.start).getTime(), e = new Date(v.end).getTime();
		if (!(e > s)) { const er = new Error("The end must be after the start."); er.field = "end"; throw er; }
		return post("/windows", { model_id: m.id, start_ms: s, end_ms: e });
	}, () => { flash("Window opened."); render(); }, { start_ms: "start", end_ms: "end" });
}

function credentialForm(m) {
	const f = h("form.box", { id: "replace-credential" }, h("h2", m.has_credential ? "Replace the credential" : "Submit the credential"),
		field("Credential", input("credential", { type: "password", autocomplete: "off", required: true, maxlength: 8192 }),
			"Sealed at once; the old one is destroyed."),
		formErr(), h("div.actions", h("button", { type: "submit" }, "Seal credential")));
	return wire(f, v => post("/models/" + m.id + "/credential", { credential: v.credential }),
		() => { flash("Credential sealed."); render(); });
}
