// app.js - the shell: session, navigation per role, hash routes, flash
// messages, confirmation of destructive actions. Views live in views/*.js
// and return a node; they never touch markup as text.
import { h, mount, val } from "./dom.js";
import { ApiError, get, post, setCsrf } from "./api.js";
import { routes } from "./routes.js";

export const app = { user: null, csrf: null, sse: [] };

export function hasRole(...roles) {
	return !!app.user && roles.some(r => (app.user.roles || []).includes(r));
}

const NAV = [
	["#/", "Dashboard", null],
	["#/orgs", "Orgs", ["admin", "liaison", "auditor", "evaluator"]],
	["#/people", "People", ["admin", "auditor"]],
	["#/models", "Models", null],
	["#/grants", "Need-to-know", ["admin", "evaluator", "auditor"]],
	["#/campaigns", "Campaigns", ["admin", "evaluator", "custodian", "auditor", "developer"]],
	["#/reports", "Reports", ["admin", "liaison", "auditor", "developer"]],
	["#/audit", "Audit", ["auditor", "admin"]],
	["#/exposure", "Exposure", ["auditor", "admin"]],
	["#/terms", "Terms", ["admin", "developer"]],
	["#/account", "Account", null],
];

function navFor(path) {
	if (!app.user) return [];
	return NAV.filter(([, , roles]) => !roles || hasRole(...roles)).map(([href, label]) => {
		const here = href === "#/" ? path === "/" : path.startsWith(href.slice(1));
		return h("a", { href, "aria-current": here ? "page" : null }, label);
	});
}

export function flash(msg, kind = "ok") {
	const f = document.getElementById("flash");
	mount(f, h("p", { class: "fl-" + kind }, msg));
	setTimeout(() => { if (f.firstChild && f.firstChild.textContent === msg) mount(f); }, 8000);
}

// Ask before anything that cannot be undone: a modal dialog whose
// confirming button names the action; Escape or Cancel keeps things.
export function confirmAction(title, text, action) {
	return new Promise(resolve => {
		const yes = h("button.danger", { type: "button" }, action);
		const no = h("button", { type: "button" }, "Cancel");
		const d = h("dialog.confirm", { "aria-labelledby": "dlg-title" },
			h("h2", { id: "dlg-title" }, title), h("p", text), h("div.actions", no, yes));
		const done = v => { d.close(); d.remove(); resolve(v); };
		yes.addEventListener("click", () => done(true));
		no.addEventListener("click", () => done(false));
		d.addEventListener("cancel", e => { e.preventDefault(); done(false); });
		document.body.appendChild(d);
		d.showModal();
		no.focus();
	});
}

export async function refreshSession() {
	try {
		const s = await get("/session");
		app.user = s.user;
		app.csrf = s.csrf_token;
		setCsrf(s.csrf_token);
	} catch (e) {
		app.user = null;
		setCsrf(null);
	}
}

export function setSession(user, csrf) {
	app.user = user;
	app.csrf = csrf;
	setCsrf(csrf);
}

export async function logout() {
	try { await post("/logout"); } catch (e) { /* the session may be gone already */ }
	setSession(null, null);
	location.hash = "#/login";
}

function who() {
	const el = document.getElementById("who");
	if (!app.user) return mount(el);
	const out = h("button.link", { type: "button", on: { click: logout } }, "Log out");
	return mount(el, h("span", val(app.user.name || app.user.login, 60)),
		h("span.roles", " (" + (app.user.roles || []).join(", ") + ") "), out);
}

function match(path) {
	for (const r of routes) {
		const m = r.re.exec(path);
		if (m) return { r, args: m.slice(1).map(decodeURIComponent) };
	}
	return null;
}

function stopStreams() {
	for (const s of app.sse) s.close();
	app.sse = [];
}

let seq = 0;
let first = true;
// data-busy on <body> while a page is being built (tests wait on it)
export async function render() {
	const my = ++seq;
	document.body.dataset.busy = "1";
	try {
		await build(my);
	} finally {
		if (my === seq) delete document.body.dataset.busy;
	}
}

async function build(my) {
	stopStreams();
	const path = (location.hash || "#/").slice(1) || "/";
	const main = document.getElementById("main");
	if (!app.user && path !== "/login") {
		location.replace("#/login");
		return;
	}
	mount(document.getElementById("nav"), navFor(path));
	who();
	const found = match(path.split("?")[0]);
	let node;
	let title = "Not found";
	try {
		if (!found) {
			node = h("section", h("h1", "Not found"), h("p", "There is no page at this address."), h("p", h("a", { href: "#/" }, "Back to the dashboard")));
		} else {
			const out = await found.r.view(...found.args);
			title = out.title;
			node = out.node;
		}
	} catch (e) {
		if (e instanceof ApiError && e.code === "terms_required" && path !== "/terms") {
			flash("Your organisation must accept the current program terms first.", "err");
			location.replace("#/terms");
			return;
		}
		if (e instanceof ApiError && e.status === 401 && path !== "/login") {
			setSession(null, null);
			location.replace("#/login");
			return;
		}
		title = "Error";
		node = h("section", h("h1", "Something went wrong"), h("p.error", { role: "alert" }, e.message),
			e instanceof ApiError ? h("p.mute", "Code: " + e.code + (e.status ? " (HTTP " + e.status + ")" : "")) : null);
	}
	if (my !== seq) return;
	document.title = title + " · assay";
	mount(main, node);
	const h1 = main.querySelector("h1");
	if (h1) h1.setAttribute("tabindex", "-1");
	// after a navigation (not the first load) focus moves to the new page
	if (!first) main.focus({ preventScroll: true });
	first = false;
	window.scrollTo(0, 0);
}

export function go(hash) {
	if (location.hash === hash) render();
	else location.hash = hash;
}

async function start() {
	const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
	mount(document.getElementById("tz"), "Times are shown in " + tz + " (UTC in each time's tooltip). ",
		h("a", { href: "#/about" }, "About these pages"));
	await refreshSession();
	window.addEventListener("hashchange", render);
	render();
}

start();
