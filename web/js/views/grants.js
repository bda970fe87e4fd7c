// grants.js - need-to-know grants: principal × model × suite × scope ×
// expiry (at most the window's end). An admin grants others, never self.
import { h, table, val, when, badge, field } from "../dom.js";
import { list, listOr, post, del } from "../api.js";
import { app, hasRole, flash, render, confirmAction } from "../app.js";
import { wire, formErr, select, input, actionButton } from "../forms.js";

export async function grantsView() {
	const grants = await list("/grants");
	const users = await listOr("/users");
	const models = await listOr("/models");
	const windows = await listOr("/windows");
	const uname = id => { const u = users.find(x => String(x.id) === String(id)); return u ? val(u.name, 60) : "#" + id; };
	const mname = id => { const m = models.find(x => String(x.id) === String(id)); return m ? [val(m.name, 60), " ", val(m.version, 30)] : "#" + id; };
	const parts = [h("h1", "Need-to-know grants"),
		h("p.help", "Nothing is granted by default. A grant of scope run lets an evaluator create campaigns and read transcripts for the model; read lets them read results. Grants end at the window's end at the latest."),
		table([
			{ head: "Person", cell: g => uname(g.user_id) },
			{ head: "Model", cell: g => mname(g.model_id) },
			{ head: "Suite", cell: g => val(g.suite) },
			{ head: "Scope", cell: g => g.scope },
			{ head: "Expires", cell: g => when(g.expires_ms) },
			{ head: "State", cell: g => g.revoked ? badge("revoked", "closed") : g.expires_ms < Date.now() ? badge("expired", "closed") : badge("active", "ok") },
			{ head: "", cell: g => hasRole("admin") && !g.revoked ? actionButton("Revoke", async () => {
				if (!await confirmAction("Revoke this grant?", "The person loses access to the model's content at once.", "Revoke")) return;
				await del("/grants/" + g.id);
				flash("Grant revoked.");
				render();
			}, "danger") : "" },
		], grants, "No grants.")];
	if (hasRole("admin")) {
		const others = users.filter(u => String(u.id) !== String(app.user.id) && !u.disabled && (u.roles || []).some(r => r === "evaluator" || r === "admin"));
		const endOf = mid => {
			const w = windows.filter(x => String(x.model_id) === String(mid) && x.state !== "closed").sort((a, b) => b.end_ms - a.end_ms)[0];
			return w ? w.end_ms : null;
		};
		const f = h("form.box", { id: "grant-form" }, h("h2", "Grant need-to-know"),
			field("Person", select("user_id", others.map(u => [u.id, u.name.slice(0, 60) + " (" + (u.roles || []).join(", ") + ")"]))),
			field("Model", select("model_id", models.map(m => [m.id, (m.name + " " + m.version).slice(0, 80)]))),
			field("Suite", input("suite", { required: true, value: "open", maxlength: 200 })),
			field("Scope", select("scope", [["run", "run (campaigns, transcripts)"], ["read", "read (results)"]])),
			formErr(), h("div.actions", h("button.primary", { type: "submit" }, "Grant")));
		parts.push(wire(f, v => {
			const end = endOf(v.model_id);
			if (!end) throw Object.assign(new Error("This model has no open or scheduled window: a grant ends with the window."), { field: "model_id" });
			return post("/grants", { user_id: Number(v.user_id), model_id: Number(v.model_id), suite: v.suite, scope: v.scope, expires_ms: end });
		}, () => { flash("Grant recorded."); render(); }));
	}
	return { title: "Need-to-know", node: h("section", parts) };
}
