// campaigns.js - campaigns: creation with the pre-registered policy shown
// and frozen, custodian approval, start, live progress over server-sent
// events, the determination with its sign / co-sign step, and the
// liaison's release of the developer report.
import { h, table, val, when, badge, field, num, usd, mount } from "../dom.js";
import { list, listOr, get, getOr, post } from "../api.js";
import { app, hasRole, flash, render, confirmAction, go } from "../app.js";
import { wire, formErr, select, input, actionButton } from "../forms.js";
import { progressChart, reportChart } from "../charts.js";

// the shipped policies (policies/*.yaml); the service checks the name
const POLICIES = ["default", "open-suite"];
const SCAFFOLDS = ["react", "structured"];

// approvals: how many; approved_by: who (docs/API.md, CAMPAIGN)
export function approvalCount(c) { return Number(c.approvals || 0); }
export function approvedBy(c, uid) { return Array.isArray(c.approved_by) && c.approved_by.map(String).includes(String(uid)); }

export function campaignRow(models) {
	const name = id => { const m = models.find(x => String(x.id) === String(id)); return m ? [val(m.name, 60), " ", val(m.version, 30)] : "#" + id; };
	return [
		{ head: "Campaign", cell: c => h("a", { href: "#/campaigns/" + c.id }, "#" + c.id) },
		{ head: "Model", cell: c => name(c.model_id) },
		{ head: "Suite", cell: c => [val(c.suite, 60), c.sealed ? [" ", badge("sealed", "pending")] : null] },
		{ head: "State", cell: c => badge(c.state) },
		{ head: "Created", cell: c => when(c.created_ms) },
	];
}

export async function campaignsView() {
	const camps = await list("/campaigns");
	const models = await listOr("/models");
	return {
		title: "Campaigns",
		node: h("section", h("h1", "Campaigns"),
			hasRole("evaluator") ? h("p", h("a", { href: "#/campaigns/new" }, "Create a campaign")) : null,
			table(campaignRow(models), camps, "No campaigns yet.")),
	};
}

async function policyText(name) {
	return getOr("/policies/" + encodeURIComponent(name));
}

export async function newCampaignView() {
	const models = await list("/models");
	const windows = await listOr("/windows");
	const openIds = new Set(windows.filter(w => w.state === "open").map(w => String(w.model_id)));
	const modelOpts = models.map(m => [m.id, (m.name + " " + m.version).slice(0, 80) + (openIds.has(String(m.id)) ? " — window open" : " — no open window")]);
	const policyBox = h("div", { id: "policy-shown" });
	const showPolicy = async name => {
		const p = await policyText(name);
		mount(policyBox, h("h3", "Pre-registered policy: ", h("code", val(name))),
			p ? [h("p.help", "Digest sha256:", h("code", val(p.digest || p.sha256 || "?")), ". These are the rules the determination will apply; the digest is frozen when you create the campaign, before any run, and cannot change after."),
				h("pre.frozen", { id: "policy-text" }, val(p.text || p.yaml || "", 200000))]
				: h("p.help", "The policy's text is not available from the service here (see docs/API.md); its digest is frozen at creation and shown on the campaign."));
	};
	const policySel = select("policy", POLICIES.map(p => [p, p]));
	policySel.addEventListener("change", () => showPolicy(policySel.value));
	const f = h("form.box", { id: "new-campaign" },
		field("Model", select("model_id", modelOpts), "Runs start only inside the model's open access window; you need a need-to-know grant of scope run for it."),
		field("Suite", input("suite", { required: true, value: "open", maxlength: 200, list: "suites" }), "open: the shipped calibration suite; or a sealed NAME.assay of the service's suites directory, which needs its custodians' approvals before it runs."),
		h("datalist", { id: "suites" }, h("option", { value: "open" })),
		h("fieldset", h("legend", "Scaffolds"), SCAFFOLDS.map(s => h("label", h("input", { type: "checkbox", name: "scaffold-" + s, checked: s === "react" }), " " + s + " "))),
		field("Tasks", input("tasks", { maxlength: 4000, placeholder: "all of the suite" }), "Task ids separated by commas or spaces; empty runs the whole suite."),
		field("Epochs per task", input("epochs", { type: "number", min: 1, max: 20, value: 1, required: true })),
		field("Token limit per episode", input("tokens", { type: "number", min: 1, placeholder: "the task's" })),
		field("Working-time limit per episode (s)", input("seconds", { type: "number", min: 1, max: 86400, placeholder: "the task's" }), "Seconds of model and tool time; each task's own turn limit applies."),
		field("Policy", policySel),
		policyBox,
		formErr(),
		h("div.actions", h("button.primary", { type: "submit" }, "Create campaign (freezes the policy)")));
	showPolicy(policySel.value);
	wire(f, v => {
		const limits = {};
		for (const k of ["tokens", "seconds"]) if (v[k] !== null && v[k] !== undefined) limits[k] = v[k];
		const body = {
			model_id: Number(v.model_id), suite: v.suite, epochs: v.epochs,
			scaffolds: SCAFFOLDS.filter(s => v["scaffold-" + s]), policy: v.policy,
		};
		const tasks = String(v.tasks || "").split(/[\s,]+/).filter(Boolean);
		if (tasks.length) body.tasks = tasks;
		if (Object.keys(limits).length) body.limits = limits;
		return post("/campaigns", body);
	}, c => { flash("Campaign #" + c.id + " created; policy frozen."); go("#/campaigns/" + c.id); },
	{ model_id: "model_id", "limits.tokens": "tokens", "limits.seconds": "seconds" });
	return { title: "New campaign", node: h("section", h("h1", "Create a campaign"), f) };
}

function progressView(c) {
	const box = h("section", { id: "progress", "aria-live": "polite" });
	const points = [];
	let first = null;
	const draw = p => {
		const total = p.episodes_total || 0, done = p.episodes_done || 0;
		const failed = p.episodes_failed || 0, running = p.episodes_running || 0;
		const now = Date.now();
		if (!first && done > 0) first = { t: now, done };
		let eta = p.eta_s;
		if ((eta === undefined || eta === null) && first && done > first.done && done < total)
			eta = (total - done) * ((now - first.t) / 1000) / (done - first.done);
		points.push({ t: now, done, failed });
		const cs = document.getElementById("c-state");
		if (cs && p.state) mount(cs, badge(p.state));
		const pct = n => total ? (100 * n / total).toFixed(1) + "%" : "0%";
		const bar = h("div.progress", { role: "img", "aria-label": done + " of " + total + " episodes done" },
			h("span.p-done", { "data-w": pct(done - failed) }), h("span.p-failed", { "data-w": pct(failed) }), h("span.p-running", { "data-w": pct(running) }));
		// widths through the CSSOM: allowed under the strict CSP, unlike style attributes
		bar.querySelectorAll("span").forEach(s => { s.style.width = s.dataset.w; });
		mount(box, h("h2", "Progress"), bar,
			h("dl.kv", { id: "progress-figures" },
				h("dt", "State"), h("dd", badge(p.state || c.state)),
				h("dt", "Episodes"), h("dd", h("span", { id: "p-done" }, num(done)), " done of " + num(total) + ", " + num(running) + " running, " + num(failed) + " failed"),
				h("dt", "Solved"), h("dd", num(p.solved)),
				h("dt", "Tokens so far"), h("dd", num(p.tokens)),
				h("dt", "Cost so far"), h("dd", usd(p.cost_usd)),
				h("dt", "ETA"), h("dd", eta ? "about " + Math.ceil(eta / 60) + " min (" + new Date(now + eta * 1000).toLocaleTimeString("en-GB", { timeZoneName: "short" }) + ")" : done >= total && total ? "finished" : "—")),
			progressChart(points, total));
	};
	draw({ episodes_total: 0, episodes_done: 0, state: c.state });
	// the stream gives the current figures, then more while it runs; a
	// campaign that was running when the page loaded is reloaded at its end
	// (determination), one that had ended only gets its final figures
	const live = ["queued", "running"].includes(c.state);
	const fromCampaign = x => Object.assign({ state: x.state }, x.progress || {});
	if (c.progress) draw(fromCampaign(c));
	let heard = false;
	const es = new EventSource("/api/v1/campaigns/" + c.id + "/events");
	app.sse.push(es);
	es.addEventListener("progress", ev => { heard = true; try { draw(JSON.parse(ev.data)); } catch (e) { /* a malformed event is skipped */ } });
	es.addEventListener("end", () => { es.close(); if (live) setTimeout(render, 300); });
	es.onerror = () => {
		if (heard) {
			if (es.readyState === 2) box.appendChild(h("p.mute", "Live updates stopped; reload to resume."));
			return;
		}
		// no event stream here: poll the campaign (its progress) instead
		es.close();
		if (live) poll(c.id, x => draw(fromCampaign(x)));
	};
	return box;
}

function poll(id, onUpdate) {
	let stopped = false;
	const timer = { close() { stopped = true; } };
	app.sse.push(timer);
	const tick = async () => {
		if (stopped) return;
		let c;
		try { c = await get("/campaigns/" + id); } catch (e) { c = null; }
		if (stopped) return;
		if (c) onUpdate(c);
		if (c && !["queued", "running"].includes(c.state)) { render(); return; }
		setTimeout(tick, 1500);
	};
	setTimeout(tick, 1000);
}

export async function campaignView(id) {
	const c = await get("/campaigns/" + id);
	const m = await getOr("/models/" + c.model_id);
	const p = c.policy ? await policyText(c.policy) : null;
	const lim = c.limits || {};
	const details = [h("h2", "Campaign"), h("dl.kv",
		h("dt", "Model"), h("dd", m ? h("a", { href: "#/models/" + m.id }, val(m.name, 80), " ", val(m.version, 40)) : "#" + c.model_id),
		h("dt", "Suite"), h("dd", val(c.suite), c.sealed ? [" ", badge("sealed", "pending")] : " (open)"),
		h("dt", "Scaffolds"), h("dd", (c.scaffolds || []).join(", ") || "—"),
		h("dt", "Epochs"), h("dd", String(c.epochs)),
		h("dt", "Limits"), h("dd", ["tokens", "seconds"].map(k => lim[k] ? k + " " + lim[k] : null).filter(Boolean).join(", ") || "the tasks' own"),
		h("dt", "State"), h("dd", { id: "c-state" }, badge(c.state)),
		h("dt", "Created"), h("dd", when(c.created_ms), " by user #" + c.created_by),
		h("dt", "Tasks"), h("dd", Array.isArray(c.tasks) && c.tasks.length ? c.tasks.map(t => val(t, 80)).reduce((a, t) => a.concat(a.length ? [", ", t] : [t]), []) : "all of the suite"),
		h("dt", "Approvals"), h("dd", approvalCount(c) + " of " + (c.approvals_needed || 0) + " needed")),
	h("h2", "Pre-registered policy"),
	h("p", badge("frozen", "ok"), " ", h("code", val(c.policy)), " sha256:", h("code", { id: "policy-digest" }, val(c.policy_digest || "?")), " — fixed at creation, before any run."),
	p ? h("pre.frozen", val(p.text || p.yaml || "", 200000)) : null];
	const parts = [h("h1", "Campaign #" + c.id)];
	const acts = h("div.actions");
	const u = c.sealed && hasRole("custodian", "admin", "evaluator") ? await getOr("/campaigns/" + c.id + "/unseal") : null;
	if (u) parts.push(unsealBox(c, u));
	if (hasRole("evaluator") && c.state === "ready") {
		acts.appendChild(actionButton("Start the campaign", async () => {
			await post("/campaigns/" + c.id + "/start");
			flash("Campaign queued.");
			render();
		}, "primary"));
	}
	parts.push(acts);
	if (c.run_id && hasRole("evaluator", "admin")) parts.push(h("p", h("a", { href: "#/runs/" + c.run_id }, "Run " + c.run_id + ": results, charts and episodes")));
	const side = [];
	if (c.state === "done") parts.push(await determinationBox(c));
	if (["queued", "running"].includes(c.state)) parts.push(h("div.split", progressView(c), h("div", details)));
	else if (["done", "failed"].includes(c.state)) parts.push(h("div.split", h("div", details), progressView(c)));
	else parts.push(h("div", details));
	return { title: "Campaign #" + c.id, node: h("section", parts, side) };
}

// A sealed campaign's unseal request: what custodians check and approve
// offline with their own key, and the upload of their approval.
function unsealBox(c, u) {
	const mine = (u.approvals || []).some(a => String(a.user_id) === String(app.user.id));
	const file = "campaign-" + c.id + ".request";
	const exp = /^expires (\d+)$/m.exec(u.request || "");
	const expires = exp ? Number(exp[1]) * 1000 : 0;
	const box = h("section.box", { id: "unseal" }, h("h2", "Unseal request"),
		h("dl.kv",
			h("dt", "Archive"), h("dd", h("code", val(u.archive, 130))),
			h("dt", "Suite digest"), h("dd", h("code", { id: "unseal-digest" }, val(u.suite_digest, 70))),
			h("dt", "Custodians"), h("dd", { id: "unseal-custodians" }, (u.custodians || []).map((n, i) => [i ? ", " : "", val(n, 70)]), " — ", String(u.threshold), " needed by the archive"),
			h("dt", "Approve by"), h("dd", expires ? when(expires) : "?"),
			h("dt", "Approvals"), h("dd", (u.approvals || []).length ? h("ul", u.approvals.map(a => h("li", val(a.custodian || "?", 70), " (uploaded by user #" + a.user_id + ", ", when(a.at_ms), ")"))) : "none yet"),
			h("dt", "Request key"), h("dd", u.secret_erased ? badge("destroyed", "ok") : badge("held for this campaign", "pending"))),
		h("pre", { id: "unseal-request" }, val(u.request, 8192)));
	box.appendChild(h("p", h("a", { href: "/api/v1/campaigns/" + c.id + "/unseal/request", download: file }, "Download the request")));
	if (hasRole("custodian") && c.state === "pending_approval" && String(c.created_by) !== String(app.user.id) && !mine) {
		const f = h("form.box", { id: "approve-form" }, h("h3", "Approve unsealing for this campaign"),
			h("p.help", "Check the suite digest and the reason above, then approve on your own machine with your key: ",
				h("code", "assay keys approve " + file + " --archive " + u.archive + " --key YOU.key -o approval.txt"),
				". Your key never comes here. Upload the approval file, or paste its text."),
			field("Approval file", input("file", { type: "file", accept: ".txt,text/plain" })),
			field("or its text", h("textarea", { name: "approval", rows: 6, maxlength: 16384 })),
			formErr(), h("div.actions", h("button.primary", { type: "submit" }, "Upload my approval")));
		box.appendChild(wire(f, async v => {
			const picked = f.querySelector("[name=file]").files[0];
			const text = picked ? await picked.text() : v.approval;
			if (!text || !text.trim()) throw Object.assign(new Error("Choose the approval file assay keys approve wrote, or paste its text."), { field: "file" });
			if (!await confirmAction("Approve campaign #" + c.id + "?", "Your approval lets the sealed suite be unsealed, once, for this campaign's run. It is recorded in the audit log under your name.", "Approve")) return null;
			return post("/campaigns/" + c.id + "/approve", { approval: text });
		}, r => { if (r) { flash("Approval recorded."); render(); } }));
	}
	return box;
}

async function determinationBox(c) {
	const d = await getOr("/campaigns/" + c.id + "/determination");
	const box = h("section", { id: "determination" }, h("h2", "Determination"));
	if (!d) {
		box.appendChild(h("p.mute", "The determination is not available to you yet."));
		return box;
	}
	const st = d.statement || {};
	const pred = st.predicate || st;
	const det = pred.determination || {};
	box.appendChild(h("div.det", { class: String(d.result || "").replace(/-/g, "_") },
		h("div.verdict", String(d.result || "").replace(/[_-]/g, " ")),
		h("p", "Policy ", h("code", val(c.policy)), " applied to run " + (c.run_id || "—") + "."),
		det.reason ? h("p", val(det.reason, 2000)) : null));
	box.appendChild(h("dl.kv",
		h("dt", "Signed"), h("dd", d.signed_by ? ["user #" + d.signed_by + ", ", when(d.signed_ms)] : badge("pending")),
		h("dt", "Co-signed"), h("dd", d.cosigned_by ? ["user #" + d.cosigned_by + ", ", when(d.cosigned_ms)] : badge("pending"))));
	const acts = h("div.actions");
	if (hasRole("evaluator") && !d.signed_by) {
		acts.appendChild(actionButton("Sign the determination", async () => {
			if (!await confirmAction("Sign the determination?", "Your signature states that this result follows from the frozen policy and the journaled run. It cannot be withdrawn.", "Sign")) return;
			await post("/campaigns/" + c.id + "/determination/sign");
			flash("Signed.");
			render();
		}, "primary"));
	}
	if (hasRole("admin") && d.signed_by && !d.cosigned_by && String(d.signed_by) !== String(app.user.id)) {
		acts.appendChild(actionButton("Co-sign the determination", async () => {
			if (!await confirmAction("Co-sign the determination?", "The second signature makes the result final and downloadable.", "Co-sign")) return;
			await post("/campaigns/" + c.id + "/determination/cosign");
			flash("Co-signed.");
			render();
		}, "primary"));
	}
	box.appendChild(acts);
	const rules = Array.isArray(det.rules) ? det.rules : [];
	if (rules.length) {
		box.appendChild(h("h3", "Rules"));
		box.appendChild(table([
			{ head: "Rule", cell: r => h("code", val(r.rule || r.name)) },
			{ head: "Verdict", cell: r => badge(r.verdict) },
			{ head: "Value", cell: r => interval(r.value) },
			{ head: "Threshold", cell: r => r.threshold !== undefined ? String(r.threshold) : "—", num: true },
		], rules));
	}
	const ev = pred.scores || pred.evidence;
	if (ev && typeof ev === "object") {
		box.appendChild(h("h3", "Evidence"));
		box.appendChild(h("dl.kv", { id: "evidence" }, Object.entries(ev).map(([k, v]) => [h("dt", k.replace(/_/g, " ")), h("dd", interval(v))])));
	}
	if (c.run_id && hasRole("evaluator", "admin")) {
		const charts = h("div.charts");
		for (const [name, label] of [["categories", "Solve rate per category"], ["tiers", "Solve rate per difficulty tier"], ["horizon", "Time horizon"]]) {
			charts.appendChild(await reportChart("/api/v1/runs/" + c.run_id + "/charts/" + name + ".svg", label));
		}
		box.appendChild(charts);
	}
	if (d.cosigned_by && hasRole("liaison")) box.appendChild(releaseForm(c));
	return box;
}

// A figure of the statement: a number, or an interval {estimate|est, lo, hi}.
function interval(v) {
	if (v === undefined || v === null) return "—";
	if (typeof v !== "object") return typeof v === "number" ? num(v, Number.isInteger(v) ? 0 : 3) : val(v);
	const est = v.estimate !== undefined ? v.estimate : v.est;
	if (est !== undefined && v.lo !== undefined) return num(est, 3) + " [" + num(v.lo, 3) + ", " + num(v.hi, 3) + "]";
	return val(JSON.stringify(v), 200);
}

function releaseForm(c) {
	const f = h("form.box", { id: "release-report" }, h("h3", "Release a report to the developer"),
		h("p.help", "Redacted: the determination and aggregate figures only; no task text; transcripts only if released specifically. An admin approves the release."),
		field("Redaction level", select("level", [["determination", "determination only"], ["category", "figures per category"], ["tier", "figures per difficulty tier"]], "category")),
		h("label", h("input", { type: "checkbox", name: "release_transcripts" }), " also release transcripts (exceptional; needs a reason in the audit log)"),
		formErr(), h("div.actions", h("button.primary", { type: "submit" }, "Prepare report")));
	return wire(f, async v => {
		if (v.release_transcripts && !await confirmAction("Release transcripts?", "The developer will be able to read what the model did on each task, which discloses task content.", "Release transcripts")) return null;
		return post("/campaigns/" + c.id + "/reports", { level: v.level, release_transcripts: !!v.release_transcripts });
	}, r => { if (r) { flash("Report #" + r.id + " prepared; an admin must approve it."); go("#/reports"); } });
}
