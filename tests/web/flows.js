// flows.js - every flow of the program (issue 16) walked through the
// pages (issue 17) in Debian's Chromium, as each role, with what each
// role must not see, hostile strings and the security headers.
//   node flows.js   (tests/integration/web.sh sets the environment)
// Environment: BASE (http://127.0.0.1:PORT), SHOTS (screenshot dir),
// ADMIN_LOGIN, ADMIN_PASSWORD, ASSAY (the binary, for `assay verify`),
// WORK (a temp dir), CHROMIUM (the browser), WEB_DIR (web/ for the
// no-innerHTML check), ONLY_SHOTS=1 (make ui-screenshots: no asserts
// beyond what the walk needs).
// A step whose endpoints the server still answers 501 (planned in
// docs/API.md) is skipped with that reason, never passed.
"use strict";
const fs = require("fs");
const path = require("path");
const http = require("http");
const { execFileSync } = require("child_process");
const puppeteer = require("puppeteer-core");
const { counts, ok, bad, skip, check, totp, Shots } = require("./lib.js");

const BASE = process.env.BASE;
const WORK = process.env.WORK || fs.mkdtempSync("/tmp/assay-web-");
const shots = new Shots(process.env.SHOTS || path.join(WORK, "shots"));
const HOSTILE = {
	script: "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">",
	attr: "\"onmouseover=\"window.__pwned=3\" x=\"",
	bidi: "Lab \u202Egnp.exe\u202C \u2066rtl\u2069",
};
const WIDE = { width: 1280, height: 800 };
const NARROW = { width: 390, height: 800 };
const STEP_MS = 20000;
// the campaign runs one quick task of the open suite against baseline/oracle
const TASK = "rev-crackme-xor";
function taskPrompt() {
	const y = fs.readFileSync(path.join(process.env.ASSAY_SOURCE_DIR || path.join(__dirname, "../.."), "tasks", TASK, "task.yaml"), "utf8");
	const m = /^prompt: \|\n((?:[ \t]+.*\n)+)/m.exec(y);
	return m ? m[1].split("\n").map(l => l.trim()).filter(l => l.length > 20)[0] : null;
}

let browser;
const people = {};
const state = {};

function raw(method, p, headers) {
	return new Promise((resolve, reject) => {
		const req = http.request(BASE + p, { method, headers: headers || {} }, res => {
			let body = "";
			res.on("data", d => { body += d; });
			res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
		});
		req.on("error", reject);
		req.setTimeout(STEP_MS, () => req.destroy(new Error("timeout")));
		req.end();
	});
}

async function person(login, password) {
	const ctx = await browser.createBrowserContext();
	const page = await ctx.newPage();
	await page.setViewport(WIDE);
	page.setDefaultTimeout(STEP_MS);
	const p = { login, password, ctx, page, errors: [] };
	page.on("pageerror", e => p.errors.push(String(e.message || e)));
	page.on("console", m => { if (m.type() === "error" && !/status of (4|5)\d\d/.test(m.text())) p.errors.push(m.text()); });
	page.on("dialog", d => { p.errors.push("a dialog opened: " + d.message()); d.dismiss(); });
	people[login] = p;
	return p;
}

async function settle(page) {
	await page.waitForFunction(() => !document.querySelector("main .loading") && !document.body.dataset.busy, { timeout: STEP_MS });
	await new Promise(r => setTimeout(r, 150));
}

async function goto(p, hash) {
	if (!p.page.url().startsWith(BASE)) await p.page.goto(BASE + "/" + hash, { waitUntil: "load" });
	else {
		await p.page.evaluate(h => {
			if (location.hash === h) window.dispatchEvent(new HashChangeEvent("hashchange"));
			else location.hash = h;
		}, hash);
	}
	await p.page.waitForFunction(h => location.hash === h || location.hash === "#/login", { timeout: STEP_MS }, hash);
	await settle(p.page);
	await p.page.waitForFunction(() => document.title !== "assay", { timeout: STEP_MS });
}

async function text(page, sel = "main") {
	return page.$eval(sel, e => e.innerText).catch(() => "");
}

async function fill(page, sel, value) {
	await page.$eval(sel, (e, v) => { e.value = v; e.dispatchEvent(new Event("input", { bubbles: true })); }, value);
}

// What the page's fetch gets for a GET: the status, to tell a planned
// endpoint (501) from one that answers.
async function apiStatus(p, path) {
	return p.page.evaluate(async u => (await fetch("/api/v1" + u, { credentials: "same-origin" })).status, path);
}

async function needs(p, name, paths) {
	for (const q of paths) {
		const s = await apiStatus(p, q);
		if (s === 501) { skip(name, "GET /api/v1" + q + " is planned, not implemented yet (docs/API.md)"); return false; }
	}
	return true;
}

async function login(p, code) {
	if (p.page.url().startsWith(BASE) && await apiStatus(p, "/session") === 200) return true;
	await goto(p, "#/login");
	await fill(p.page, "#login-form [name=login]", p.login);
	await fill(p.page, "#login-form [name=password]", p.password);
	if (code) await fill(p.page, "#login-form [name=totp]", code);
	await p.page.click("#login-form button[type=submit]");
	await p.page.waitForFunction(() => location.hash !== "#/login" || document.querySelector(".ferr:not(:empty),.formerr:not(:empty)"), { timeout: STEP_MS });
	await settle(p.page);
	return p.page.evaluate(() => location.hash !== "#/login");
}

async function submit(page, form) {
	await page.click(form + " button[type=submit]");
	await page.waitForFunction(f => {
		const el = document.querySelector(f);
		return !el || !el.isConnected || ![...el.querySelectorAll("button[type=submit]")].some(b => b.disabled);
	}, { timeout: STEP_MS }, form);
	await settle(page);
}

async function clickButton(page, label) {
	// an action that asks first opens its dialog within the click
	const r = await page.evaluate(l => {
		const b = [...document.querySelectorAll("main button")].find(x => x.textContent.trim().startsWith(l));
		if (b) b.click();
		return { found: !!b, dialog: !!document.querySelector("dialog.confirm[open]") };
	}, label);
	if (!r.found) throw new Error("no button " + JSON.stringify(label));
	if (r.dialog) await page.click("dialog.confirm[open] button.danger");
	await new Promise(r => setTimeout(r, 300));
	await settle(page);
}

async function formError(page, form) {
	return page.$$eval(form + " .ferr, " + form + " .formerr", es => es.map(e => e.textContent).join(" ").trim());
}

async function inert(p, name) {
	const r = await p.page.evaluate(() => ({
		pwned: window.__pwned || 0,
		handlers: [...document.querySelectorAll("*")].filter(e => [...e.attributes].some(a => /^on/i.test(a.name))).length,
		scripts: document.querySelectorAll("script").length,
	}));
	check(name + ": hostile strings stay text (no script ran, no handler attribute, no new script element)",
		r.pwned === 0 && r.handlers === 0 && r.scripts === 1 && p.errors.length === 0, JSON.stringify(r) + " " + p.errors.join("; "));
}

// ---- the steps ------------------------------------------------------------

async function headers() {
	const pages = ["/", "/js/app.js", "/app.css", "/api/v1/session"];
	for (const u of pages) {
		const r = await raw("GET", u);
		const csp = r.headers["content-security-policy"] || "";
		check("headers of " + u + ": strict CSP (default-src 'self', no unsafe-inline) and X-Frame-Options DENY",
			/default-src 'self'/.test(csp) && !/unsafe-inline|unsafe-eval/.test(csp) && r.headers["x-frame-options"] === "DENY",
			"CSP " + JSON.stringify(csp) + " XFO " + r.headers["x-frame-options"]);
	}
	const js = await raw("GET", "/js/app.js");
	check("scripts are served as JavaScript (ES modules need it)", /javascript/.test(js.headers["content-type"] || ""), js.headers["content-type"]);
	const dir = process.env.WEB_DIR;
	if (dir) {
		const found = [];
		const walk = d => fs.readdirSync(d, { withFileTypes: true }).forEach(e => {
			const f = path.join(d, e.name);
			if (e.isDirectory()) walk(f);
			else if (/\.(js|html)$/.test(e.name)) {
				const s = fs.readFileSync(f, "utf8");
				if (/\.innerHTML\s*=|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/.test(s)) found.push(f + ": markup from text");
				if (/\.html$/.test(e.name) && (/<script(?![^>]*\bsrc=)[^>]*>/.test(s) || /\sstyle=|\son[a-z]+=/i.test(s))) found.push(f + ": inline script, style or handler");
				if (/https?:\/\/(?!www\.w3\.org\/2000\/svg)/.test(s.replace(/\/\/.*$/gm, ""))) found.push(f + ": an external address");
			}
		});
		walk(dir);
		check("web/ has no innerHTML, inline script or style, handler attribute or external address", found.length === 0, found.join("; "));
	}
	const r = await raw("GET", "/../../etc/passwd");
	check("a path outside web/ is not served", r.status === 404 || r.status === 400, "HTTP " + r.status);
}

async function adminBasics(a) {
	await goto(a, "#/login");
	await shots.take(a.page, "login");
	// a wrong password: the error sits next to the password field
	await fill(a.page, "#login-form [name=login]", a.login);
	await fill(a.page, "#login-form [name=password]", "not the password");
	await a.page.click("#login-form button[type=submit]");
	await a.page.waitForFunction(() => document.querySelector("#login-form .ferr:not(:empty),#login-form .formerr:not(:empty)"));
	const err = await a.page.$eval("[name=password]", e => e.getAttribute("aria-invalid") === "true" && document.getElementById(e.id + "-err").textContent);
	check("a wrong password is reported next to the password field", !!err, "no field error");
	await shots.take(a.page, "login-error");
	check("the admin logs in through the login page", await login(a), await text(a.page));
	const t = await a.page.title();
	check("the dashboard has a meaningful title and heading", /Dashboard/.test(t) && (await text(a.page, "h1")) === "Dashboard", t);
	check("times carry their time zone", /Times are shown in/.test(await text(a.page, "footer")), await text(a.page, "footer"));
	await shots.take(a.page, "dashboard-admin");
}

async function keyboard(a) {
	await goto(a, "#/");
	await a.page.reload({ waitUntil: "load" });
	await settle(a.page);
	await a.page.keyboard.press("Tab");
	const first = await a.page.evaluate(() => document.activeElement.textContent);
	let reached = false;
	for (let i = 0; i < 12 && !reached; i++) {
		await a.page.keyboard.press("Tab");
		reached = await a.page.evaluate(() => document.activeElement.getAttribute("href") === "#/orgs");
	}
	if (reached) {
		await a.page.keyboard.press("Enter");
		await a.page.waitForFunction(() => location.hash === "#/orgs");
		await settle(a.page);
	}
	check("keyboard: Tab reaches the skip link, then the navigation; Enter follows a link",
		/Skip to content/.test(first) && reached && (await a.page.title()).startsWith("Organisations"), first + " / " + reached);
	await a.page.setViewport(NARROW);
	await goto(a, "#/");
	const over = await a.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
	check("a narrow window (390 px) needs no sideways scrolling", over <= 1, over + " px too wide");
	await shots.take(a.page, "dashboard-narrow");
	await a.page.setViewport(WIDE);
}

async function addPerson(a, login, name, roles) {
	if (!await a.page.$("#add-person")) await goto(a, "#/people");
	await fill(a.page, "#add-person [name=login]", login);
	await fill(a.page, "#add-person [name=name]", name);
	await a.page.select("#add-person [name=org_id]", String(state.agencyOrg));
	for (const r of roles) await a.page.click("#add-person [name=role-" + r + "]");
	await submit(a.page, "#add-person");
	const pw = await a.page.$eval("#initial-password", e => e.textContent).catch(() => "");
	if (!pw) throw new Error("no initial password for " + login + ": " + await formError(a.page, "#add-person"));
	return person(login, pw);
}

async function staff(a) {
	const orgs = await a.page.evaluate(async () => (await (await fetch("/api/v1/orgs")).json()).items);
	const agency = orgs.find(o => o.kind === "agency") || orgs[0];
	state.agencyOrg = agency.id;
	for (const [login, name, roles] of [["admin2", "Second Admin", ["admin"]], ["eve", "Eve Evaluator", ["evaluator"]],
		["lia", "Lia Liaison", ["liaison"]], ["aud", "Aud Auditor", ["auditor"]],
		["cus1", "Cus One", ["custodian"]], ["cus2", "Cus Two", ["custodian"]]]) {
		await addPerson(a, login, name, roles);
	}
	await goto(a, "#/people");
	await shots.take(a.page, "people");
	check("the admin adds the agency's staff for every role", Object.keys(people).length === 7, Object.keys(people).join(","));
	// a duplicate login: the error is next to the login field
	await fill(a.page, "#add-person [name=login]", "eve");
	await fill(a.page, "#add-person [name=name]", "Eve Again");
	await a.page.click("#add-person [name=role-evaluator]");
	await submit(a.page, "#add-person");
	check("a duplicate login is refused, with the error on the form", (await formError(a.page, "#add-person")).length > 0, "no error shown");
}

async function terms(a) {
	await goto(a, "#/terms");
	await fill(a.page, "#publish-terms [name=text]", "Confidential: models and results stay inside the program. " + HOSTILE.script);
	await a.page.click("#publish-terms button[type=submit]");
	await a.page.waitForSelector("dialog.confirm[open]");
	await shots.take(a.page, "confirm-dialog");
	await a.page.click("dialog.confirm[open] button.danger");
	await a.page.waitForFunction(() => /Current version/.test(document.querySelector("main").innerText));
	ok("the admin publishes program terms (after a confirmation)");
	await inert(a, "terms");
}

async function invite(a, orgName, login, name, kind = "developer") {
	await goto(a, "#/orgs");
	await fill(a.page, "#invite-org [name=name]", orgName);
	await a.page.select("#invite-org [name=kind]", kind);
	await fill(a.page, "#invite-org [name=login]", login);
	await fill(a.page, "#invite-org [name=person]", name);
	await submit(a.page, "#invite-org");
	const pw = await a.page.$eval("#initial-password", e => e.textContent).catch(() => "");
	if (!pw) throw new Error("invite " + orgName + ": " + await formError(a.page, "#invite-org"));
	return person(login, pw);
}

async function onboarding(a) {
	state.dev1 = await invite(a, "Frontier Lab " + HOSTILE.bidi, "dev1", "Dana Developer");
	await shots.take(a.page, "invite-organisation");
	state.dev2 = await invite(a, "Other Lab " + HOSTILE.attr, "dev2", "Omar Other");
	ok("the admin invites two developer organisations");
	await goto(a, "#/orgs");
	await inert(a, "organisations list");
	const bidi = await text(a.page, "main table");
	check("a bidi override in a name is shown as a mark, not obeyed", /\[U\+202E\]gnp\.exe/.test(bidi) && !/\u202E/.test(bidi), bidi.slice(0, 300));
	await shots.take(a.page, "organisations");
	// a 1 MB name: refused by the server, the page stays usable
	await fill(a.page, "#invite-org [name=name]", "x".repeat(1 << 20));
	await fill(a.page, "#invite-org [name=login]", "huge");
	await fill(a.page, "#invite-org [name=person]", "Huge");
	await submit(a.page, "#invite-org");
	const e = await formError(a.page, "#invite-org");
	check("a 1 MB name is refused with an error on the form, the page stays usable", e.length > 0 && (await a.page.title()).startsWith("Organisations"), e);
	for (const d of [state.dev1, state.dev2]) {
		check(d.login + " logs in with the initial password", await login(d), await text(d.page));
		await goto(d, "#/");
		const acc = await d.page.evaluate(() => {
			const b = [...document.querySelectorAll("#terms button")].find(x => /Accept/.test(x.textContent));
			if (b) b.click();
			return !!b;
		});
		if (!acc) { bad(d.login + " accepts the terms", "no accept button: " + (await text(d.page)).slice(0, 300)); continue; }
		await d.page.waitForFunction(() => /accepted/.test(document.querySelector("main").innerText));
		ok(d.login + " accepts the current program terms");
		if (d === state.dev1) await shots.take(d.page, "dashboard-developer");
		await inert(d, d.login + " dashboard");
	}
}

async function registerModel(d, name, version) {
	await goto(d, "#/models");
	await fill(d.page, "#register-model [name=name]", name);
	await fill(d.page, "#register-model [name=version]", version);
	const rel = new Date(Date.now() + 20 * 864e5).toISOString().slice(0, 10);
	await fill(d.page, "#register-model [name=release_date]", rel);
	await fill(d.page, "#register-model [name=summary]", "A model for the test. " + HOSTILE.script);
	await d.page.select("#register-model [name=provider]", "baseline");
	await fill(d.page, "#register-model [name=endpoint_model]", "oracle");
	await fill(d.page, "#register-model [name=credential]", "sk-test-secret-never-shown");
	await submit(d.page, "#register-model");
	await d.page.waitForFunction(() => /^#\/models\/\d+$/.test(location.hash), { timeout: STEP_MS });
	await settle(d.page);
	return Number((await d.page.evaluate(() => location.hash)).split("/")[2]);
}

async function models(a) {
	const d1 = state.dev1, d2 = state.dev2;
	if (!await needs(d1, "models: register, list, not another organisation's", ["/models"])) return false;
	state.model = await registerModel(d1, "Frontier-1", "2026-12");
	await shots.take(d1.page, "model-registered");
	const body = await text(d1.page);
	check("the developer registers a model; its credential is sealed and never shown", /sealed/.test(body) && !/sk-test-secret/.test(body), body.slice(0, 300));
	await inert(d1, "model page");
	state.otherModel = await registerModel(d2, "Other-Model", "v9");
	await goto(d1, "#/models");
	const list = await text(d1.page);
	check("a developer does not see another organisation's model in the list", /Frontier-1/.test(list) && !/Other-Model/.test(list), list.slice(0, 400));
	await goto(d1, "#/models/" + state.otherModel);
	const guess = await text(d1.page);
	check("nor by guessing its id (the page says not found, shows nothing of it)", !/Other-Model/.test(guess) && /not|wrong/i.test(guess), guess.slice(0, 300));
	const s = await apiStatus(d1, "/models/" + state.otherModel);
	check("the API refuses that id with 404", s === 404, "HTTP " + s);
	return true;
}

async function windows(a) {
	if (!await needs(a, "windows: open one", ["/windows"])) return false;
	await goto(a, "#/models/" + state.model);
	await submit(a.page, "#open-window");
	const t = await text(a.page);
	check("the admin opens an access window for the model", /open/.test(t) && (await formError(a.page, "#open-window")) === "", (await formError(a.page, "#open-window")) || t.slice(0, 300));
	await shots.take(a.page, "model-window");
	await goto(a, "#/models");
	const svg = await a.page.$$eval("main svg.chart rect.win", rs => rs.length);
	check("the windows timeline draws the window against the release date", svg >= 1 && (await a.page.$$eval("main svg line.release", l => l.length)) >= 1, svg + " window bars");
	await shots.take(a.page, "models-timeline");
	// the other model: a window opened, then closed at once (confirmed):
	// its credential is erased
	await goto(a, "#/models/" + state.otherModel);
	await submit(a.page, "#open-window");
	await a.page.evaluate(() => { const b = [...document.querySelectorAll("main button")].find(x => x.textContent === "Close now"); if (b) b.click(); });
	const dlg = await a.page.waitForSelector("dialog.confirm[open]").catch(() => null);
	const warn = dlg ? await a.page.$eval("dialog.confirm[open]", d => d.innerText) : "";
	await shots.take(a.page, "window-close-confirm");
	if (dlg) await a.page.click("dialog.confirm[open] button.danger");
	await a.page.waitForFunction(() => /erased/.test(document.querySelector("main").innerText)).catch(() => null);
	await settle(a.page);
	const after = await text(a.page);
	check("closing a window asks first, then erases the model's credential", /crypto-erased/.test(warn) && /closed/.test(after) && /erased/.test(after), warn + " / " + after.slice(0, 400));
	return true;
}

async function partners(a) {
	if (!await needs(a, "trusted partners", ["/models/" + state.model + "/partners"])) return true;
	state.partner = await invite(a, "Trusted Partner Co", "par1", "Pat Partner", "partner");
	for (const p of [a, state.dev1]) {
		await goto(p, "#/models/" + state.model);
		const opts = await p.page.$$eval("#designate-partner [name=org_id] option", os => os.map(o => [o.value, o.textContent]));
		const mine = opts.find(o => /Trusted Partner|designated by the admin/.test(o[1]));
		if (!mine) throw new Error(p.login + ": no partner to designate: " + (await text(p.page)).slice(0, 300));
		await p.page.select("#designate-partner [name=org_id]", mine[0]);
		await submit(p.page, "#designate-partner");
	}
	await goto(a, "#/models/" + state.model);
	const t = await text(a.page);
	check("the admin and the developer jointly designate a trusted partner", /Trusted Partner Co\s+yes\s+yes\s+active/.test(t), t.slice(t.indexOf("Trusted partners"), t.indexOf("Trusted partners") + 300));
	await shots.take(a.page, "partners", "#designate-partner");
	return true;
}

async function grants(a) {
	if (!await needs(a, "need-to-know grant", ["/grants"])) return false;
	await goto(a, "#/grants");
	const users = await a.page.$$eval("#grant-form [name=user_id] option", os => os.map(o => [o.value, o.textContent]));
	const eve = users.find(u => /Eve/.test(u[1]));
	await a.page.select("#grant-form [name=user_id]", eve[0]);
	await a.page.select("#grant-form [name=model_id]", String(state.model));
	await submit(a.page, "#grant-form");
	const t = await text(a.page);
	check("the admin grants the evaluator need-to-know (run) for the model", /Eve Evaluator/.test(t) && /active/.test(t), (await formError(a.page, "#grant-form")) || t.slice(0, 300));
	await shots.take(a.page, "grants");
	return true;
}

async function campaign(e) {
	if (!await needs(e, "campaign: create, approve, run, sign", ["/campaigns"])) return false;
	await goto(e, "#/campaigns/new");
	await e.page.select("#new-campaign [name=model_id]", String(state.model));
	await fill(e.page, "#new-campaign [name=suite]", "open");
	await fill(e.page, "#new-campaign [name=tasks]", TASK);
	await e.page.waitForSelector("#policy-shown h3");
	await shots.take(e.page, "campaign-new");
	await submit(e.page, "#new-campaign");
	await e.page.waitForFunction(() => /^#\/campaigns\/\d+$/.test(location.hash));
	await settle(e.page);
	state.campaign = Number((await e.page.evaluate(() => location.hash)).split("/")[2]);
	const digest = await e.page.$eval("#policy-digest", x => x.textContent).catch(() => "");
	check("the evaluator creates a campaign on the open suite; the policy digest is frozen and shown", /^[0-9a-f]{8,}/.test(digest), digest);
	return true;
}

// A campaign of a sealed suite: the admin grants need-to-know on that
// suite, the evaluator creates it, each custodian reads the unseal
// request on the page, approves it offline with their own key (assay keys
// approve) and uploads the approval file; then it runs, unsealed in memory.
async function sealedCampaign(a, e) {
	const archive = process.env.SEALED_ARCHIVE;
	if (!archive || !fs.existsSync(archive)) { bad("sealed campaign", "no sealed archive (web.sh seals one)"); return false; }
	await goto(a, "#/grants");
	const users = await a.page.$$eval("#grant-form [name=user_id] option", os => os.map(o => [o.value, o.textContent]));
	await a.page.select("#grant-form [name=user_id]", users.find(u => /Eve/.test(u[1]))[0]);
	await a.page.select("#grant-form [name=model_id]", String(state.model));
	await fill(a.page, "#grant-form [name=suite]", path.basename(archive));
	await submit(a.page, "#grant-form");
	check("the admin grants the evaluator need-to-know on the sealed suite", (await text(a.page)).includes(path.basename(archive)), await formError(a.page, "#grant-form"));
	await goto(e, "#/campaigns/new");
	await e.page.select("#new-campaign [name=model_id]", String(state.model));
	await fill(e.page, "#new-campaign [name=suite]", path.basename(archive));
	await fill(e.page, "#new-campaign [name=tasks]", "");
	await e.page.waitForSelector("#policy-shown h3");
	await submit(e.page, "#new-campaign");
	await e.page.waitForFunction(() => /^#\/campaigns\/\d+$/.test(location.hash));
	await settle(e.page);
	const sid = Number((await e.page.evaluate(() => location.hash)).split("/")[2]);
	check("the evaluator creates a sealed campaign; it waits for custodians", /pending_approval/.test(await text(e.page)) && !!await e.page.$("#unseal-request"), await text(e.page));
	const keys = { cus1: "cust-a", cus2: "cust-b" };
	for (const who of ["cus1", "cus2"]) {
		const p = people[who];
		await login(p);
		await goto(p, "#/campaigns/" + sid);
		const req = await p.page.$eval("#unseal-request", x => x.textContent).catch(() => "");
		check(who + " sees the unseal request: this campaign's run, the archive's digest, no secret", req.includes("run campaign-" + sid + "\n") && !/secret/.test(req) && req.includes("suite " + await p.page.$eval("#unseal-digest", x => x.textContent)), req);
		const shown = await p.page.$eval("#unseal-custodians", x => x.innerText).catch(() => "");
		check(who + " sees the archive's custodians by name", shown.startsWith("cust-a, cust-b"), shown);
		if (who === "cus1") await shots.take(p.page, "custodian-approval");
		const reqf = path.join(WORK, "web-req-" + who), out = path.join(WORK, "web-app-" + who);
		fs.writeFileSync(reqf, req);
		execFileSync(process.env.ASSAY, ["keys", "approve", reqf, "--archive", archive, "--key", path.join(process.env.CUSTODIAN_KEYS, keys[who] + ".key"), "-o", out],
			{ env: Object.assign({}, process.env, { ASSAY_PASSPHRASE: process.env.CUSTODIAN_PASSPHRASE }), stdio: "ignore" });
		if (who === "cus1") {
			await fill(p.page, "#approve-form [name=approval]", "not an approval");
			await p.page.click("#approve-form button[type=submit]");
			await p.page.waitForSelector("dialog.confirm[open]");
			await p.page.click("dialog.confirm[open] button.danger");
			await p.page.waitForFunction(() => document.querySelector("#approve-form .ferr:not(:empty)"), { timeout: STEP_MS }).catch(() => null);
			const err = await formError(p.page, "#approve-form");
			check("a text that is no approval is refused next to the field", /refused/.test(err), err);
			await fill(p.page, "#approve-form [name=approval]", "");
		}
		const inp = await p.page.$("#approve-form [name=file]");
		await inp.uploadFile(out);
		await p.page.click("#approve-form button[type=submit]");
		await p.page.waitForSelector("dialog.confirm[open]");
		await p.page.click("dialog.confirm[open] button.danger");
		await p.page.waitForFunction(() => !document.querySelector("#approve-form"), { timeout: STEP_MS }).catch(() => null);
		await settle(p.page);
		if (who === "cus1") {
			await goto(p, "#/");
			const mine = await text(p.page);
			await login(people.cus2);
			await goto(people.cus2, "#/");
			const theirs = await text(people.cus2.page);
			check("the approval leaves the custodian's dashboard, not the other custodian's", !mine.includes("Approve unsealing for campaign #" + sid) && theirs.includes("Approve unsealing for campaign #" + sid), mine.slice(0, 300) + " | " + theirs.slice(0, 300));
			await goto(p, "#/campaigns/" + sid);
		}
		check(who + " uploads the approval file; the page lists it", (await p.page.$eval("#unseal", x => x.innerText).catch(() => "")).includes(keys[who]) && !await p.page.$("#approve-form"), await text(p.page));
	}
	await goto(e, "#/campaigns/" + sid);
	check("two custodians' approvals make the sealed campaign ready", /Start the campaign/.test(await text(e.page)), await text(e.page));
	await clickButton(e.page, "Start the campaign");
	await e.page.waitForFunction(() => /\bdone\b|\bfailed\b/.test(document.querySelector("#c-state") ? document.querySelector("#c-state").innerText : ""), { timeout: 120000 }).catch(() => null);
	await goto(e, "#/campaigns/" + sid);
	const t = await text(e.page);
	check("the sealed campaign runs to the end and its request key is destroyed", /\bdone\b/.test(t) && /destroyed/.test(await e.page.$eval("#unseal", x => x.innerText).catch(() => "")), t.slice(0, 600));
	return true;
}

async function runIt(e) {
	await goto(e, "#/campaigns/" + state.campaign);
	if (/Start the campaign/.test(await text(e.page))) await clickButton(e.page, "Start the campaign");
	await e.page.waitForSelector("#progress");
	await new Promise(r => setTimeout(r, 1500));
	await shots.take(e.page, "campaign-progress");
	const live = await e.page.$eval("#progress", x => x.innerText);
	check("live progress shows episodes, tokens, cost and ETA", /Episodes/.test(live) && /Tokens/.test(live) && /ETA/.test(live), live);
	await e.page.waitForSelector("#determination", { timeout: 150000 });
	await settle(e.page);
	const fig = await text(e.page, "#progress");
	check("the campaign finishes and the page shows it without a reload (1 of 1 episodes)", /1 done of 1/.test(fig), fig);
	await shots.take(e.page, "campaign-done");
	const runId = await e.page.evaluate(() => { const l = [...document.querySelectorAll("main a")].find(x => /^#\/runs\//.test(x.getAttribute("href"))); return l ? l.getAttribute("href").split("/")[2] : null; });
	state.run = runId;
	if (!await needs(e, "determination: sign, co-sign, release, download", ["/campaigns/" + state.campaign + "/determination"])) return false;
	await shots.take(e.page, "determination", "#determination");
	await clickButton(e.page, "Sign the determination");
	check("the evaluator signs", /Signed\s*user #\d+/.test(await text(e.page, "#determination")), await text(e.page, "#determination"));
	const a = people.admin;
	await goto(a, "#/campaigns/" + state.campaign);
	await clickButton(a.page, "Co-sign the determination");
	check("the admin co-signs (a second person)", /Co-signed\s*user #\d+/.test(await text(a.page, "#determination")), await text(a.page, "#determination"));
	await shots.take(a.page, "determination-cosigned", "#determination");
	return true;
}

async function runPages(e) {
	if (!state.run) { bad("run and episode pages", "the finished campaign has no run link"); return; }
	const st = await apiStatus(e, "/runs/" + state.run);
	if (st !== 200) { bad("the evaluator with need-to-know reads the run", "GET /api/v1/runs/" + state.run + " answers " + st); return; }
	state.runApi = true;
	await goto(e, "#/runs/" + state.run);
	const charts = await e.page.$$eval("main figure svg", s => s.length);
	check("the run page shows the report's charts inline", charts >= 2, charts + " charts");
	await shots.take(e.page, "run");
	const exp = await e.page.evaluate(async () => {
		const a = document.querySelector("#run-export a[href$='inspect.eval']");
		if (!a) return "no export link";
		const r = await fetch(a.getAttribute("href"), { credentials: "same-origin" });
		const b = new Uint8Array(await r.arrayBuffer());
		return r.status + " " + r.headers.get("Content-Type") + " " + String.fromCharCode(b[0], b[1]);
	});
	check("the run page links its Inspect log export, which downloads as a zip", exp === "200 application/zip PK", exp);
	const ep = await e.page.evaluate(() => { const l = document.querySelector("main a[href*='/episodes/']"); return l && l.getAttribute("href"); });
	if (!ep) { bad("episode page", "no episode link"); return; }
	await goto(e, ep);
	const msgs = await e.page.$$eval("#transcript .msg", m => m.length);
	check("the transcript is a conversation of messages", msgs >= 2, msgs + " messages");
	await fill(e.page, "#q", "submit");
	const hits = await e.page.$eval("#hits", x => x.textContent);
	check("the transcript is searchable", /match/.test(hits), hits);
	await shots.take(e.page, "transcript");
	state.episodeHash = ep;
	state.taskText = await e.page.$eval("#transcript .msg", x => x.innerText.slice(0, 2000)).catch(() => "");
}

async function mustNotSee() {
	const l = people.lia, d = state.dev1;
	// the campaign's pages as the liaison and the developer: no task text,
	// no way to the run's transcripts
	const prompt = taskPrompt();
	for (const p of [l, d]) {
		await goto(p, "#/campaigns/" + state.campaign);
		const t = await text(p.page);
		const links = await p.page.$$eval("main a", as => as.map(a => a.getAttribute("href")).filter(h => /^#\/runs\//.test(h)));
		check(p.login + " sees the campaign without task text or a way to its transcripts",
			!!prompt && !t.includes(prompt) && links.length === 0, (prompt ? "" : "no prompt read; ") + links.join(" ") + " " + t.slice(0, 200));
	}
	if (state.run && state.runApi) {
		await goto(l, "#/runs/" + state.run);
		const lt = await text(l.page);
		const s1 = await apiStatus(l, "/runs/" + state.run);
		check("the liaison sees no run content (no task text)", (s1 === 404 || s1 === 403) && !(state.taskText && lt.includes(state.taskText.slice(0, 60))), "HTTP " + s1 + " " + lt.slice(0, 200));
		if (state.episodeHash) {
			await goto(d, state.episodeHash);
			const dt = await text(d.page);
			const s2 = await apiStatus(d, state.episodeHash.slice(1) + "/events");
			check("the developer sees no transcript", (s2 === 404 || s2 === 403) && !/#transcript/.test(dt) && (await d.page.$$("#transcript .msg")).length === 0, "HTTP " + s2);
		}
	}
	const s3 = await apiStatus(d, "/campaigns/" + state.campaign + "/determination");
	await goto(d, "#/");
	const nav = await d.page.$$eval("#nav a", as => as.map(a => a.getAttribute("href")));
	check("the developer's navigation has no audit, people or need-to-know pages", !nav.includes("#/audit") && !nav.includes("#/people") && !nav.includes("#/grants"), nav.join(" "));
	check("the developer reads no determination before its release (HTTP 403/404)", s3 === 403 || s3 === 404, "HTTP " + s3);
}

async function release() {
	const l = people.lia, a2 = people.admin2;
	await goto(l, "#/campaigns/" + state.campaign);
	if (!await l.page.$("#release-report")) { bad("the liaison prepares the developer report", (await text(l.page)).slice(0, 400)); return false; }
	await l.page.select("#release-report [name=level]", "category");
	await submit(l.page, "#release-report");
	await l.page.waitForFunction(() => location.hash === "#/reports");
	ok("the liaison prepares the redacted developer report");
	await login(a2);
	await goto(a2, "#/reports");
	await clickButton(a2.page, "Approve release");
	check("another admin approves its release", /approved/.test(await text(a2.page)), await text(a2.page));
	return true;
}

async function download() {
	const d = state.dev1;
	await goto(d, "#/reports");
	await shots.take(d.page, "reports-developer");
	const href = await d.page.$eval("a.download", x => x.getAttribute("href")).catch(() => null);
	if (!href) { bad("the developer downloads the signed report", (await text(d.page)).slice(0, 300)); return; }
	const hint = await text(d.page, "#verify-hint");
	check("the reports page gives the verification command", /assay verify/.test(hint), hint);
	const doc = await d.page.evaluate(async u => { const r = await fetch(u); return r.ok ? r.text() : "HTTP " + r.status; }, href);
	const file = path.join(WORK, "report.json");
	fs.writeFileSync(file, doc);
	let out = "";
	// the signers' keys, as the page links them
	const keys = await d.page.$$eval("#verify-hint a[download]", as => as.map(a => [a.getAttribute("href"), a.getAttribute("download")]));
	check("the hint links the report's two signers' public keys", keys.length === 2, JSON.stringify(keys));
	{
		const args = [];
		for (const [href, name] of keys) {
			const pub = await d.page.evaluate(async u => (await fetch(u)).text(), href);
			const f = path.join(WORK, path.basename(name));
			fs.writeFileSync(f, pub);
			args.push("--key", f);
		}
		try {
			out = execFileSync(process.env.ASSAY, ["verify", ...args, file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
			ok("assay verify accepts the downloaded report with the agency's keys");
		} catch (e) { bad("assay verify the downloaded report", (e.stderr || e.message) + " " + doc.slice(0, 200)); }
		const tampered = path.join(WORK, "tampered.json");
		// change the verdict inside the signed statement (the payload is base64)
		let changed = doc;
		try {
			const env = JSON.parse(doc);
			const stmt = Buffer.from(env.payload, "base64").toString("utf8");
			const alt = stmt.replace(/"verdict":"[^"]*"/, "\"verdict\":\"tampered\"");
			check("the signed statement names a verdict to change", alt !== stmt, stmt.slice(0, 200));
			env.payload = Buffer.from(alt, "utf8").toString("base64");
			changed = JSON.stringify(env);
		} catch (e) { bad("the download is a DSSE envelope", e.message + " " + doc.slice(0, 200)); }
		fs.writeFileSync(tampered, changed);
		try {
			execFileSync(process.env.ASSAY, ["verify", ...args, tampered], { stdio: "ignore" });
			bad("assay verify refuses a changed report", "it passed");
		} catch (e) { ok("assay verify refuses a changed report"); }
	}
	check("the developer's report holds no transcript", !/"transcripts?"\s*:\s*\[\s*\{/.test(doc) && !(state.taskText && doc.includes(state.taskText.slice(0, 60))), out);
}

async function auditor() {
	const u = people.aud;
	check("the auditor logs in", await login(u), await text(u.page));
	await goto(u, "#/audit");
	const rows = await u.page.$$eval("#audit-table tbody tr", r => r.length);
	check("the auditor browses the audit log", rows > 0, rows + " rows");
	await fill(u.page, "#audit-filter", "org");
	await shots.take(u.page, "audit-log");
	if (await needs(u, "checkpoint and inclusion proof", ["/audit/checkpoint", "/audit/proof?index=0&size=1"])) {
		await submit(u.page, "#proof-form");
		const r = await text(u.page, "#proof-result");
		check("the auditor verifies an entry's inclusion proof against the checkpoint in the browser", /is included/.test(r), r);
		await shots.take(u.page, "audit-proof");
	}
	if (await needs(u, "exposure ledger", ["/exposure"])) {
		await goto(u, "#/exposure");
		check("the auditor sees the exposure ledger", /Exposure ledger/.test(await text(u.page, "h1")), await text(u.page));
		await shots.take(u.page, "exposure");
	}
	if (state.runApi) {
		const s = await apiStatus(u, "/runs/" + state.run + "/episodes");
		check("the auditor reads no run content (metadata only)", s === 403 || s === 404, "HTTP " + s);
	}
	if (state.campaign) {
		await goto(u, "#/campaigns/" + state.campaign);
		const links = await u.page.$$eval("main a", as => as.map(a => a.getAttribute("href")).filter(h => /^#\/runs\//.test(h)));
		check("the auditor sees the campaign's metadata, with no way to its run's content", links.length === 0 && /Campaign #/.test(await text(u.page, "h1")), links.join(" "));
	}
	await inert(u, "audit log");
}

async function totpFlow() {
	const a2 = people.admin2;
	if (!await login(a2)) { bad("TOTP enrolment", "admin2 cannot log in"); return; }
	await goto(a2, "#/account");
	await clickButton(a2.page, "Enrol an authenticator");
	const secret = await a2.page.$eval("#totp-secret", x => x.textContent).catch(() => "");
	if (!secret) { bad("TOTP enrolment", await text(a2.page)); return; }
	await fill(a2.page, "#totp-confirm [name=code]", totp(secret));
	await submit(a2.page, "#totp-confirm");
	check("a user enrols TOTP on the account page", /enrolled/.test(await text(a2.page)), await text(a2.page));
	await shots.take(a2.page, "account-totp");
	await a2.page.evaluate(() => [...document.querySelectorAll("#who button")].forEach(b => b.click()));
	await a2.page.waitForFunction(() => location.hash === "#/login");
	await settle(a2.page);
	await login(a2);
	const asked = await a2.page.$eval("#login-form [name=totp]", x => x.offsetParent !== null).catch(() => false);
	check("the login page then asks for the code", asked, await text(a2.page));
	await shots.take(a2.page, "login-totp");
	await fill(a2.page, "#login-form [name=totp]", totp(secret, 1));
	await a2.page.click("#login-form button[type=submit]");
	await a2.page.waitForFunction(() => location.hash !== "#/login", { timeout: STEP_MS }).catch(() => null);
	check("and logs in with it", await a2.page.evaluate(() => location.hash !== "#/login"), await text(a2.page));
}

async function main() {
	browser = await puppeteer.launch({
		executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
		headless: true,
		args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync"],
	});
	try {
		await headers();
		const a = await person(process.env.ADMIN_LOGIN, process.env.ADMIN_PASSWORD);
		const steps = [
			["admin login", () => adminBasics(a)], ["keyboard and narrow", () => keyboard(a)],
			["staff", () => staff(a)], ["terms", () => terms(a)], ["onboarding", () => onboarding(a)],
			["totp", totpFlow],
		];
		for (const [name, fn] of steps) await guarded(name, fn);
		let go = await guarded("models", () => models(a));
		if (go) go = await guarded("windows", () => windows(a));
		if (go) await guarded("partners", () => partners(a));
		if (go) go = await guarded("grants", () => grants(a));
		if (go) {
			const e = people.eve;
			await guarded("evaluator login", async () => check("the evaluator logs in", await login(e), await text(e.page)));
			go = await guarded("campaign", () => campaign(e));
			if (go) {
				const signed = await guarded("run", () => runIt(e));
				await guarded("run pages", () => runPages(e));
				await guarded("liaison login", () => login(people.lia));
				await guarded("must not see", mustNotSee);
				if (signed && await guarded("release", release)) await guarded("download", download);
				await guarded("sealed campaign", () => sealedCampaign(a, people.eve));
			}
		} else {
			skip("campaign, approval, run, determination, release, download", "the model, window or grant endpoints are planned, not implemented yet (docs/API.md)");
		}
		await guarded("auditor", auditor);
	} finally {
		await browser.close();
	}
	console.log(counts.passed + " passed, " + counts.failed + " failed, " + counts.skipped + " skipped");
	process.exit(counts.failed ? 1 : 0);
}

async function guarded(name, fn) {
	try {
		const r = await fn();
		return r === undefined ? true : r;
	} catch (e) {
		bad(name, e.stack || e.message);
		for (const p of Object.values(people)) {
			if (p.page && !p.page.isClosed()) await shots.take(p.page, "failed-" + name.replace(/\W+/g, "-") + "-" + p.login).catch(() => null);
		}
		return false;
	}
}

main().catch(e => { console.log("FAIL flows: " + (e.stack || e)); console.log(counts.passed + " passed, " + (counts.failed + 1) + " failed, " + counts.skipped + " skipped"); process.exit(1); });
