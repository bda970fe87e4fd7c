// dash.js - what needs my action, per role: approvals to give, windows
// closing, campaigns running, determinations to sign, reports to release.
import { h, val, when, badge } from "../dom.js";
import { listOr, getOr } from "../api.js";
import { app, hasRole } from "../app.js";
import { termsBox, modelsTable } from "./orgs.js";
import { approvedBy } from "./campaigns.js";

const DAY = 864e5;

function item(href, ...text) { return h("li", h("a", { href }, text)); }

export async function dashView() {
	const notes = [];
	const todo = [];
	const cards = [];
	const models = await listOr("/models", notes);
	const windows = await listOr("/windows", notes);
	const camps = hasRole("admin", "evaluator", "custodian", "auditor", "developer") ? await listOr("/campaigns", notes) : [];
	const reports = hasRole("admin", "liaison", "auditor", "developer") ? await listOr("/reports", notes) : [];
	const mname = id => { const m = models.find(x => String(x.id) === String(id)); return m ? [val(m.name, 50), " ", val(m.version, 30)] : "#" + id; };
	const now = Date.now();
	const open = windows.filter(w => w.state === "open");
	for (const w of open.filter(w => w.end_ms - now < 3 * DAY))
		todo.push(item("#/models/" + w.model_id, "Window #" + w.id + " for ", mname(w.model_id), " closes ", when(w.end_ms)));
	if (hasRole("custodian")) for (const c of camps.filter(c => c.state === "pending_approval" && String(c.created_by) !== String(app.user.id) && !approvedBy(c, app.user.id)))
		todo.push(item("#/campaigns/" + c.id, "Approve unsealing for campaign #" + c.id + " (", mname(c.model_id), ")"));
	if (hasRole("evaluator")) for (const c of camps.filter(c => c.state === "ready"))
		todo.push(item("#/campaigns/" + c.id, "Start campaign #" + c.id + " (approved)"));
	if (hasRole("evaluator", "admin")) {
		for (const c of camps.filter(c => c.state === "done")) {
			const d = await getOr("/campaigns/" + c.id + "/determination");
			if (!d) continue;
			if (hasRole("evaluator") && !d.signed_by) todo.push(item("#/campaigns/" + c.id, "Sign the determination of campaign #" + c.id));
			if (hasRole("admin") && d.signed_by && !d.cosigned_by && String(d.signed_by) !== String(app.user.id)) todo.push(item("#/campaigns/" + c.id, "Co-sign the determination of campaign #" + c.id));
		}
	}
	if (hasRole("admin")) for (const r of reports.filter(r => !r.approved_by))
		todo.push(item("#/reports", "Approve the release of report #" + r.id));
	if (hasRole("developer")) {
		for (const r of reports.filter(r => r.approved_by)) todo.push(item("#/reports", "Download report #" + r.id + " and check it with assay verify"));
		for (const m of models.filter(m => !m.has_credential)) todo.push(item("#/models/" + m.id, "Submit the credential for ", val(m.name, 50)));
	}
	const running = camps.filter(c => c.state === "running" || c.state === "queued");
	cards.push(h("div.card", h("h3", "Open windows"), h("div.big", String(open.length)), h("a", { href: "#/models" }, "Models and windows")));
	if (camps.length || hasRole("evaluator")) cards.push(h("div.card", h("h3", "Campaigns running"), h("div.big", String(running.length)), h("a", { href: "#/campaigns" }, "All campaigns")));
	if (reports.length || hasRole("liaison", "developer")) cards.push(h("div.card", h("h3", "Reports"), h("div.big", String(reports.length)), h("a", { href: "#/reports" }, "Reports")));
	if (hasRole("auditor")) cards.push(h("div.card", h("h3", "Audit"), h("p", h("a", { href: "#/audit" }, "Browse the log")), h("p", h("a", { href: "#/exposure" }, "Exposure ledger"))));
	const parts = [h("h1", "Dashboard"),
		h("p.mute", "Logged in as ", val(app.user.name), " — ", (app.user.roles || []).join(", ") + "."),
		h("h2", "Needs your action"),
		todo.length ? h("ul.todo", { id: "todo" }, todo) : h("p.empty", { id: "todo" }, "Nothing needs your action now."),
		h("div.cards", cards)];
	if (running.length) parts.push(h("h2", "Running now"), h("ul", running.map(c => item("#/campaigns/" + c.id, "Campaign #" + c.id + " ", badge(c.state), " ", mname(c.model_id)))));
	if (hasRole("developer")) {
		const org = await getOr("/orgs/" + app.user.org_id);
		parts.push(h("h2", "Your organisation", org ? [": ", val(org.name, 80)] : null));
		parts.push(await termsBox(org));
		parts.push(h("h3", "Your models"), modelsTable(models));
	}
	return { title: "Dashboard", node: h("section", parts) };
}
