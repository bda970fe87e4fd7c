// orgs.js - organisations (invite one: create it and its first member),
// people, and the program terms.
import { h, table, val, when, badge, field } from "../dom.js";
import { list, listOr, get, getOr, post } from "../api.js";
import { hasRole, flash, render, confirmAction, app } from "../app.js";
import { wire, formErr, select, input, actionButton } from "../forms.js";

const ROLES = ["admin", "evaluator", "liaison", "auditor", "custodian", "developer"];

function orgLink(o) { return h("a", { href: "#/orgs/" + o.id }, val(o.name, 80)); }

export async function orgsView() {
	const orgs = await list("/orgs");
	const parts = [h("h1", "Organisations"),
		table([
			{ head: "Name", cell: orgLink },
			{ head: "Kind", cell: o => badge(o.kind) },
			{ head: "Terms accepted", cell: o => o.kind === "agency" ? "—" : (o.terms_accepted ? "version " + o.terms_accepted : badge("pending")) },
			{ head: "Since", cell: o => when(o.created_ms) },
		], orgs, "No organisations yet.")];
	if (hasRole("admin")) parts.push(inviteForm());
	return { title: "Organisations", node: h("section", parts) };
}

function inviteForm() {
	const f = h("form.box", { id: "invite-org" },
		h("h2", "Invite an organisation"),
		h("p.help", "Creates the organisation and its first member; the member logs in with the initial password shown once, sets their own and accepts the program terms."),
		field("Organisation name", input("name", { required: true, maxlength: 200 })),
		field("Kind", select("kind", [["developer", "developer (submits models)"], ["partner", "trusted partner (runs campaigns)"]])),
		field("First member's login", input("login", { required: true, maxlength: 64, autocomplete: "off" })),
		field("First member's name", input("person", { required: true, maxlength: 200 })),
		formErr(),
		h("div.actions", h("button.primary", { type: "submit" }, "Invite")));
	return wire(f, async v => {
		const org = await post("/orgs", { name: v.name, kind: v.kind });
		try {
			const u = await post("/users", { login: v.login, name: v.person, org_id: org.id, roles: ["developer"] });
			return { org, u };
		} catch (e) {
			e.message = "The organisation was created, its member was not: " + e.message;
			if (e.field === "name") e.field = "person";
			throw e;
		}
	}, r => showPassword(r.org, r.u));
}

function showPassword(org, u) {
	const main = document.getElementById("main");
	main.querySelectorAll(".onetime").forEach(x => x.remove());
	const box = h("div.box.onetime", { role: "status" },
		h("h2", "Invitation ready"),
		h("p", "Give ", val(u.name), " (login ", h("code", val(u.login)), org ? [") of ", val(org.name)] : ")", " this initial password by a separate channel. It is shown only now."),
		h("p", h("code.secret", { id: "initial-password" }, u.initial_password || "")),
		h("p", h("a", { href: "#/people/" + u.id }, "Open their page")));
	main.appendChild(box);
	box.scrollIntoView();
}

export async function orgView(id) {
	const o = await get("/orgs/" + id);
	const people = await listOr("/users");
	const models = await listOr("/models");
	const mine = people.filter(p => String(p.org_id) === String(o.id));
	const theirs = models.filter(m => String(m.org_id) === String(o.id));
	const parts = [h("h1", val(o.name, 120)),
		h("dl.kv", h("dt", "Kind"), h("dd", badge(o.kind)), h("dt", "Created"), h("dd", when(o.created_ms)),
			h("dt", "Terms"), h("dd", o.kind === "agency" ? "—" : o.terms_accepted ? "accepted version " + o.terms_accepted : "not yet accepted")),
		h("h2", "People"), peopleTable(mine),
		h("h2", "Models"), modelsTable(theirs)];
	if (o.kind !== "agency" && hasRole("developer") && String(app.user.org_id) === String(o.id)) parts.push(await termsBox(o));
	return { title: o.name.slice(0, 60), node: h("section", parts) };
}

export function modelsTable(models) {
	return table([
		{ head: "Model", cell: m => h("a", { href: "#/models/" + m.id }, val(m.name, 80), " ", val(m.version, 40)) },
		{ head: "Release", cell: m => m.release_date || "—" },
		{ head: "Access", cell: m => m.access },
		{ head: "Credential", cell: m => m.has_credential ? badge("sealed", "ok") : badge("none", "pending") },
	], models, "No models.");
}

function peopleTable(people) {
	return table([
		{ head: "Name", cell: u => h("a", { href: "#/people/" + u.id }, val(u.name, 80)) },
		{ head: "Login", cell: u => h("code", val(u.login, 64)) },
		{ head: "Roles", cell: u => (u.roles || []).join(", ") },
		{ head: "TOTP", cell: u => u.totp ? "yes" : "no" },
		{ head: "State", cell: u => u.disabled ? badge("disabled", "closed") : badge("active", "ok") },
	], people, "Nobody yet.");
}

export async function peopleView() {
	const people = await list("/users");
	const orgs = await listOr("/orgs");
	const parts = [h("h1", "People"), peopleTable(people)];
	if (hasRole("admin")) {
		const roleBoxes = h("fieldset.roles", h("legend", "Roles"), ROLES.map(r =>
			h("label", h("input", { type: "checkbox", name: "role-" + r }), " " + r)));
		const f = h("form.box", { id: "add-person" }, h("h2", "Add a person"),
			field("Login", input("login", { required: true, maxlength: 64, autocomplete: "off" })),
			field("Name", input("name", { required: true, maxlength: 200 })),
			field("Organisation", select("org_id", orgs.map(o => [o.id, o.name.slice(0, 80) + " (" + o.kind + ")"]))),
			roleBoxes, h("p.ferr", { id: "roles-err", role: "alert" }),
			formErr(), h("div.actions", h("button.primary", { type: "submit" }, "Add")));
		parts.push(wire(f, v => post("/users", {
			login: v.login, name: v.name, org_id: Number(v.org_id),
			roles: ROLES.filter(r => v["role-" + r]),
		}), u => showPassword(null, u)));
	}
	return { title: "People", node: h("section", parts) };
}

export async function personView(id) {
	const u = await get("/users/" + id);
	const parts = [h("h1", val(u.name, 120)), h("dl.kv",
		h("dt", "Login"), h("dd", h("code", val(u.login))),
		h("dt", "Roles"), h("dd", (u.roles || []).join(", ")),
		h("dt", "TOTP"), h("dd", u.totp ? "enrolled" : "not enrolled"),
		h("dt", "State"), h("dd", u.disabled ? "disabled" : "active"),
		h("dt", "Created"), h("dd", when(u.created_ms)))];
	if (hasRole("admin") && !u.disabled && String(u.id) !== String(app.user.id)) {
		parts.push(h("div.actions", actionButton("Disable this account", async () => {
			if (!await confirmAction("Disable " + u.login + "?", "They are logged out at once and cannot log in until re-enabled.", "Disable account")) return;
			await post("/users/" + u.id + "/disable");
			flash("Account disabled.");
			render();
		}, "danger")));
	}
	return { title: u.name.slice(0, 60), node: h("section", parts) };
}

export async function termsBox(org) {
	const t = await getOr("/terms");
	if (!t) return h("p.mute", "No program terms are published yet.");
	const accepted = !!org && String(org.terms_accepted) === String(t.version);
	if (accepted) return h("div", { id: "terms" }, h("p", "Program terms version " + t.version + ": ", badge("accepted", "ok"), " by your organisation. ", h("a", { href: "#/terms" }, "Read them")));
	const box = h("div.box", { id: "terms" }, h("h2", "Program terms, version " + t.version),
		h("pre", val(t.text, 20000)),
		accepted ? null
			: h("div.actions", actionButton("Accept version " + t.version + (org ? " for " + org.name.slice(0, 60) : " for your organisation"), async () => {
				await post("/terms/accept", { version: t.version });
				flash("Terms accepted.");
				if (location.hash === "#/terms") location.hash = "#/";
				else render();
			}, "primary")));
	return box;
}

export async function termsView() {
	const t = await getOr("/terms");
	const parts = [h("h1", "Program terms")];
	parts.push(t ? [h("p", "Current version " + t.version + ", published ", when(t.created_ms), "."), h("pre", val(t.text, 20000))]
		: h("p.empty", "No terms published yet."));
	if (hasRole("admin")) {
		const f = h("form.box", { id: "publish-terms" }, h("h2", "Publish a new version"),
			field("Text", h("textarea", { name: "text", required: true, rows: 8 })),
			formErr(), h("div.actions", h("button.primary", { type: "submit" }, "Publish")));
		parts.push(wire(f, async v => {
			if (!await confirmAction("Publish new terms?", "Every developer organisation must accept the new version before it can act again.", "Publish")) return null;
			return post("/terms", { text: v.text });
		}, r => { if (r) { flash("Terms version " + r.version + " published."); render(); } }));
	}
	if (hasRole("developer")) {
		const org = await getOr("/orgs/" + app.user.org_id);
		parts.push(await termsBox(org));
	}
	return { title: "Program terms", node: h("section", parts) };
}
