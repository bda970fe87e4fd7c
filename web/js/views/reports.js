// reports.js - redacted developer reports: the liaison prepares, an admin
// approves, the developer downloads the signed document and checks it
// offline with `assay verify`.
import { h, table, val, when, badge } from "../dom.js";
import { list, listOr, post } from "../api.js";
import { app, hasRole, flash, render, confirmAction } from "../app.js";
import { actionButton } from "../forms.js";

// The signers' public keys (GET /keys): the developer keeps them apart
// from the report, as the trust anchors of the check.
export function verifyHint(rep, allKeys) {
	const id = rep.id;
	const signers = [rep.created_by, rep.approved_by].map(String);
	const keys = allKeys.filter(k => signers.includes(String(k.user_id)));
	const file = "assay-report-" + id + ".json";
	const names = keys.map(k => "agency-" + String(k.id).replace(/[^0-9a-z-]/gi, "") + ".pub");
	const cmd = "assay verify " + (names.length ? names.map(n => "--key " + n).join(" ") : "--key AGENCY.pub") + " " + file;
	return h("div.hint", { id: "verify-hint" },
		h("p", "Check the download offline, on any machine with assay, before relying on it:"),
		h("pre", cmd),
		keys.length ? h("p", "The agency's signing keys: ", keys.map((k, i) => [i ? ", " : "",
			h("a", { href: "/api/v1/keys/" + encodeURIComponent(k.id), download: names[i] }, val(k.name || names[i], 60))]), ".")
			: h("p.help", "Ask the program office for the agency's signing keys (the service does not list them here)."),
		h("p.help", "It checks the liaison's signature and the releasing admin's co-signature over the redacted statement (the determination, the figures at the chosen level, the policy digest, a commitment to the task set). A changed byte fails the check. Keep these public keys from the program office's own channel too, not only from this page."));
}

export async function reportsView() {
	const reps = await list("/reports");
	const camps = await listOr("/campaigns");
	const models = await listOr("/models");
	const keys = await listOr("/keys");
	const modelOf = r => {
		const c = camps.find(x => String(x.id) === String(r.campaign_id));
		const m = c && models.find(x => String(x.id) === String(c.model_id));
		return m ? [val(m.name, 60), " ", val(m.version, 30)] : "—";
	};
	const rows = table([
		{ head: "Report", cell: r => "#" + r.id },
		{ head: "Campaign", cell: r => hasRole("developer") ? "#" + r.campaign_id : h("a", { href: "#/campaigns/" + r.campaign_id }, "#" + r.campaign_id) },
		{ head: "Model", cell: modelOf },
		{ head: "Redaction", cell: r => r.level + (r.transcripts_released ? ", transcripts released" : ", no transcripts") },
		{ head: "State", cell: r => r.approved_by ? badge("approved") : badge("pending") },
		{ head: "Prepared", cell: r => when(r.created_ms) },
		{ head: "", cell: r => reportAction(r) },
	], reps, hasRole("developer") ? "No report has been released to your organisation yet." : "No reports yet.");
	const parts = [h("h1", hasRole("developer") ? "Reports for your organisation" : "Developer reports"), rows];
	const ready = reps.filter(r => r.approved_by);
	if (ready.length && hasRole("developer", "liaison", "admin")) parts.push(verifyHint(ready[0], keys));
	return { title: "Reports", node: h("section", parts) };
}

function reportAction(r) {
	if (r.approved_by && hasRole("developer", "liaison", "admin")) {
		return h("a", { href: "/api/v1/reports/" + r.id + "/download", download: "assay-report-" + r.id + ".json", class: "download" }, "Download signed report");
	}
	if (!r.approved_by && hasRole("admin") && String(r.created_by) !== String(app.user.id)) {
		return actionButton("Approve release", async () => {
			if (!await confirmAction("Release report #" + r.id + " to the developer?", "Once released, the developer can download it; this cannot be taken back.", "Release")) return;
			await post("/reports/" + r.id + "/approve");
			flash("Report released.");
			render();
		}, "primary");
	}
	return h("span.mute", "awaiting an admin");
}
