// forms.js - one way to submit a form to the API: errors go next to the
// field the server names (error.field), or above the buttons.
import { h, clearErrors, fieldError, formValues } from "./dom.js";
import { flash } from "./app.js";

export function formErr() { return h("p.formerr", { role: "alert" }); }

// onSubmit(form, values) -> promise; its result goes to done(result).
// aliases maps the API's field names to the form's where they differ.
export function wire(form, onSubmit, done, aliases) {
	form.addEventListener("submit", async ev => {
		ev.preventDefault();
		clearErrors(form);
		const buttons = form.querySelectorAll("button[type=submit]");
		buttons.forEach(b => { b.disabled = true; });
		try {
			const r = await onSubmit(formValues(form));
			if (r !== null && r !== undefined) form.reset();
			if (done) await done(r);
		} catch (e) {
			const name = (aliases && aliases[e.field]) || e.field;
			if (!(name && fieldError(form, name, e.message))) {
				const top = form.querySelector(".formerr");
				if (top) top.textContent = e.message;
				else flash(e.message, "err");
			}
		} finally {
			buttons.forEach(b => { b.disabled = false; });
		}
	});
	return form;
}

export function select(name, options, value) {
	return h("select", { name }, options.map(([v, label]) => h("option", { value: v, selected: String(v) === String(value) }, label)));
}

export function input(name, attrs = {}) {
	return h("input", Object.assign({ name }, attrs));
}

// A button that runs fn, disabled while it runs; errors go to flash.
export function actionButton(label, fn, cls = "") {
	const b = h("button" + (cls ? "." + cls : ""), { type: "button" }, label);
	b.addEventListener("click", async () => {
		b.disabled = true;
		try { await fn(); } catch (e) { flash(e.message, "err"); } finally { b.disabled = false; }
	});
	return b;
}
