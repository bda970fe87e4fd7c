// login.js - password, then the TOTP code when the account has one
// (API: POST /login answers totp_required; the second step repeats the
// login with "totp").
import { h, field, fieldError, clearErrors } from "../dom.js";
import { ApiError, post } from "../api.js";
import { setSession, go, app } from "../app.js";

export async function loginView() {
	if (app.user) { go("#/"); return { title: "Log in", node: h("p", "…") }; }
	const login = h("input", { name: "login", autocomplete: "username", required: true, maxlength: 200 });
	const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true, maxlength: 256 });
	const totp = h("input", { name: "totp", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: 6 });
	const totpField = field("Code from your authenticator app", totp, "Six digits; a code is accepted once.");
	totpField.hidden = true;
	const formErr = h("p.formerr", { role: "alert" });
	const button = h("button.primary", { type: "submit" }, "Log in");
	const form = h("form.box", { id: "login-form", "aria-labelledby": "login-h" },
		field("Login", login), field("Password", password), totpField, formErr, h("div.actions", button));
	form.addEventListener("submit", async ev => {
		ev.preventDefault();
		clearErrors(form);
		button.disabled = true;
		const body = { login: login.value, password: password.value };
		if (!totpField.hidden && totp.value) body.totp = totp.value;
		try {
			const r = await post("/login", body);
			setSession(r.user, r.csrf_token);
			go("#/");
		} catch (e) {
			if (e instanceof ApiError && e.code === "totp_required") {
				totpField.hidden = false;
				fieldError(form, "totp", totp.value ? "That code was not accepted." : "This account needs the code from its authenticator.");
			} else if (e instanceof ApiError && (e.code === "locked" || e.code === "rate_limited")) {
				formErr.textContent = e.message + (e.extra.retry_after_s ? " Try again in " + Math.ceil(e.extra.retry_after_s / 60) + " minutes." : "");
			} else if (e instanceof ApiError && e.code === "bad_credentials") {
				if (!totpField.hidden && body.totp) fieldError(form, "totp", "Wrong login, password or code.");
				else fieldError(form, "password", "Wrong login or password.");
			} else {
				formErr.textContent = e.message;
			}
		} finally {
			button.disabled = false;
		}
	});
	return {
		title: "Log in",
		node: h("section.login", h("h1", { id: "login-h" }, "Log in to assay"),
			h("p.mute", "The agency's early-access program: evaluations of frontier models before release."),
			form),
	};
}
