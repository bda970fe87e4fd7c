// account.js - one's own account: password, TOTP enrolment, API tokens.
import { h, table, val, when, field, mount, badge } from "../dom.js";
import { listOr, post, del } from "../api.js";
import { app, flash, render, confirmAction, refreshSession } from "../app.js";
import { wire, formErr, input, select, actionButton } from "../forms.js";

export async function accountView() {
	const u = app.user;
	const tokens = await listOr("/tokens");
	const pw = h("form.box", { id: "change-password" }, h("h2", "Change password"),
		field("Current password", input("old_password", { type: "password", autocomplete: "current-password", required: true })),
		field("New password", input("new_password", { type: "password", autocomplete: "new-password", required: true, minlength: 12, maxlength: 256 }), "12 to 256 characters. Your other sessions end."),
		formErr(), h("div.actions", h("button.primary", { type: "submit" }, "Change password")));
	wire(pw, v => post("/me/password", v), async () => { flash("Password changed."); await refreshSession(); render(); });
	const totpOut = h("div", { id: "totp-enrol" });
	const totp = h("section", h("h2", "Second factor (TOTP)"),
		h("p", u.totp ? [badge("enrolled", "ok"), " Your account asks for a code at every login."] : "Not enrolled: enrol an authenticator app (RFC 6238, 6 digits, 30 s)."),
		h("div.actions", actionButton(u.totp ? "Replace the authenticator" : "Enrol an authenticator", async () => {
			const r = await post("/me/totp");
			const f = h("form.box", { id: "totp-confirm" },
				h("p", "Add this secret to your authenticator app, then type the code it shows."),
				h("p", "Secret: ", h("code", { id: "totp-secret" }, val(r.secret))),
				h("p.help", "Or the URI: ", h("code", val(r.uri, 400))),
				field("Code", input("code", { inputmode: "numeric", pattern: "[0-9]{6}", maxlength: 6, required: true, autocomplete: "one-time-code" })),
				formErr(), h("div.actions", h("button.primary", { type: "submit" }, "Confirm")));
			wire(f, v => post("/me/totp/confirm", { code: v.code }), async () => { flash("Authenticator enrolled."); await refreshSession(); render(); });
			mount(totpOut, f);
		})), totpOut);
	const tokOut = h("div", { role: "status" });
	const tf = h("form.box", { id: "new-token" }, h("h3", "New API token"),
		field("Name", input("name", { required: true, maxlength: 100 })),
		field("Scope", select("scope", [["read", "read (GET only)"], ["write", "write"]])),
		field("Expires after (days)", input("days", { type: "number", min: 1, max: 90, value: 30, required: true })),
		formErr(), h("div.actions", h("button", { type: "submit" }, "Create token")));
	wire(tf, v => post("/tokens", v), r => mount(tokOut, h("div.box.onetime",
		h("p", "Your token, shown only now (the service keeps only its hash):"), h("pre", { id: "new-token-value" }, val(r.token)),
		h("p", h("a", { href: "#/account" }, "Done")))));
	return {
		title: "Account",
		node: h("section", h("h1", "Your account"),
			h("dl.kv", h("dt", "Login"), h("dd", h("code", val(u.login))), h("dt", "Name"), h("dd", val(u.name)),
				h("dt", "Roles"), h("dd", (u.roles || []).join(", ")), h("dt", "Organisation"), h("dd", h("a", { href: "#/orgs/" + u.org_id }, "#" + u.org_id))),
			pw, totp,
			h("h2", "API tokens"),
			table([
				{ head: "Name", cell: t => val(t.name) },
				{ head: "Scope", cell: t => t.scope },
				{ head: "Expires", cell: t => when(t.expires_ms) },
				{ head: "", cell: t => t.revoked ? badge("revoked", "closed") : actionButton("Revoke", async () => {
					if (!await confirmAction("Revoke token " + t.name + "?", "Programs using it stop working at once.", "Revoke")) return;
					await del("/tokens/" + t.id);
					flash("Token revoked.");
					render();
				}, "danger") },
			], tokens, "No tokens."), tf, tokOut),
	};
}
