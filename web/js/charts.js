// charts.js - SVG drawn in the page (no library): the windows timeline,
// progress over time, a run against its reference runs per category.
// The report's own charts (interval plots, time horizon) come from the
// server as SVG built by src/report/report_charts.c and are imported as
// nodes (never as markup text into the page): see reportChart().
import { h, day } from "./dom.js";

const S = (tag, attrs, ...kids) => h(tag, Object.assign({ svg: true }, attrs || {}), ...kids);

function frame(w, hgt, title) {
	return S("svg", { class: "chart", viewBox: "0 0 " + w + " " + hgt, width: w, height: hgt, role: "img", "aria-label": title },
		S("title", null, title));
}

function text(x, y, s, cls = "label", anchor = "start") {
	return S("text", { x, y, class: cls, "text-anchor": anchor }, String(s));
}

// Windows against release dates: one row per model, a bar per window, a
// red tick at the release date, a dashed line at now.
export function windowsTimeline(models, windows, now = Date.now()) {
	const rows = models.map(m => ({ m, ws: windows.filter(w => String(w.model_id) === String(m.id)) }));
	const times = [now];
	for (const r of rows) {
		for (const w of r.ws) times.push(w.start_ms, w.end_ms);
		if (r.m.release_date) times.push(Date.parse(r.m.release_date + "T00:00:00Z"));
	}
	let t0 = Math.min(...times) - 2 * 864e5, t1 = Math.max(...times) + 2 * 864e5;
	const W = 900, left = 190, right = 20, rowH = 30, top = 26;
	const H = top + Math.max(rows.length, 1) * rowH + 30;
	const x = t => left + (W - left - right) * (t - t0) / (t1 - t0);
	const svg = frame(W, H, "Access windows against release dates");
	const step = Math.max(1, Math.ceil((t1 - t0) / 864e5 / 8)) * 864e5;
	for (let t = Math.ceil(t0 / 864e5) * 864e5; t <= t1; t += step) {
		svg.appendChild(S("line", { x1: x(t), y1: top - 6, x2: x(t), y2: H - 24, class: "grid" }));
		svg.appendChild(text(x(t), H - 8, day(t), "tick", "middle"));
	}
	rows.forEach((r, i) => {
		const y = top + i * rowH;
		svg.appendChild(text(8, y + 18, (r.m.name + " " + (r.m.version || "")).slice(0, 28)));
		for (const w of r.ws) {
			const state = w.state || "open";
			svg.appendChild(S("rect", { x: x(w.start_ms), y: y + 6, width: Math.max(2, x(w.end_ms) - x(w.start_ms)), height: rowH - 12, class: "win " + state },
				S("title", null, "window " + w.id + " (" + state + "): " + new Date(w.start_ms).toISOString() + " to " + new Date(w.end_ms).toISOString())));
		}
		if (r.m.release_date) {
			const rx = x(Date.parse(r.m.release_date + "T00:00:00Z"));
			svg.appendChild(S("line", { x1: rx, y1: y + 2, x2: rx, y2: y + rowH - 2, class: "release" },
				S("title", null, "release " + r.m.release_date)));
		}
	});
	svg.appendChild(S("line", { x1: x(now), y1: top - 10, x2: x(now), y2: H - 24, class: "now" }));
	svg.appendChild(text(x(now) + 3, top - 12, "now", "axis-label"));
	return h("figure", svg, h("figcaption", "Bars: access windows (blue open, amber scheduled, grey closed); red ticks: stated release dates (UTC)."));
}

// Progress over time: episodes done and failed as the stream reports them.
export function progressChart(points, total) {
	const W = 640, H = 200, left = 40, bottom = 30, top = 12, right = 12;
	const svg = frame(W, H, "Episodes finished over time");
	if (points.length === 0) {
		svg.appendChild(text(W / 2, H / 2, "no progress yet", "note", "middle"));
		return svg;
	}
	const t0 = points[0].t, t1 = Math.max(points[points.length - 1].t, t0 + 1000);
	const ymax = Math.max(total || 1, 1);
	const x = t => left + (W - left - right) * (t - t0) / (t1 - t0);
	const y = v => H - bottom - (H - bottom - top) * v / ymax;
	svg.appendChild(S("line", { x1: left, y1: H - bottom, x2: W - right, y2: H - bottom, class: "axis" }));
	svg.appendChild(S("line", { x1: left, y1: top, x2: left, y2: H - bottom, class: "axis" }));
	svg.appendChild(text(left - 4, y(ymax) + 4, ymax, "tick", "end"));
	svg.appendChild(text(left - 4, y(0) + 4, 0, "tick", "end"));
	svg.appendChild(text(W - right, H - 8, Math.round((t1 - t0) / 1000) + " s", "tick", "end"));
	const path = key => points.map((p, i) => (i ? "L" : "M") + x(p.t).toFixed(1) + " " + y(p[key] || 0).toFixed(1)).join(" ");
	svg.appendChild(S("path", { d: path("done"), class: "line-done" }));
	svg.appendChild(S("path", { d: path("failed"), class: "line-failed" }));
	return svg;
}

// A run against its reference runs: solve rate per category, one bar each.
// cats: [{name, cand, refs: [{name, rate}]}] with rates in [0, 1].
export function refsByCategory(cats) {
	const n = cats.reduce((a, c) => a + 1 + c.refs.length, 0);
	const W = 640, left = 150, barH = 14, gap = 10, top = 10;
	const H = top + n * barH + cats.length * gap + 30;
	const x = v => left + (W - left - 50) * Math.max(0, Math.min(1, v));
	const svg = frame(W, H, "Solve rate per category: this run against its reference runs");
	let y = top;
	for (const c of cats) {
		svg.appendChild(text(4, y + 11, c.name.slice(0, 22)));
		svg.appendChild(S("rect", { x: left, y, width: Math.max(1, x(c.cand) - left), height: barH - 2, class: "bar-cand" },
			S("title", null, c.name + ": this run " + (c.cand * 100).toFixed(0) + "%")));
		svg.appendChild(text(x(c.cand) + 4, y + 11, (c.cand * 100).toFixed(0) + "%", "tick"));
		y += barH;
		for (const r of c.refs) {
			svg.appendChild(S("rect", { x: left, y, width: Math.max(1, x(r.rate) - left), height: barH - 2, class: "bar-ref" },
				S("title", null, c.name + ": " + r.name + " " + (r.rate * 100).toFixed(0) + "%")));
			svg.appendChild(text(x(r.rate) + 4, y + 11, String(r.name).slice(0, 16) + " " + (r.rate * 100).toFixed(0) + "%", "tick"));
			y += barH;
		}
		y += gap;
	}
	svg.appendChild(S("line", { x1: left, y1: top - 4, x2: left, y2: y, class: "axis" }));
	return h("figure", svg, h("figcaption", "Blue: this run; grey: reference runs. Share of valid episodes solved."));
}

// One of the report's charts (src/report/report_charts.c), fetched as an
// SVG document and imported as nodes. Scripts and event attributes are
// dropped before import (and the page's CSP would block them anyway).
export async function reportChart(url, label) {
	const res = await fetch(url, { credentials: "same-origin" });
	if (!res.ok) return h("p.mute", label + ": not available (HTTP " + res.status + ").");
	const doc = new DOMParser().parseFromString(await res.text(), "image/svg+xml");
	const root = doc.documentElement;
	if (!root || root.nodeName !== "svg") return h("p.mute", label + ": not an SVG chart.");
	root.querySelectorAll("script,foreignObject,style").forEach(n => n.remove());
	for (const el of [root, ...root.querySelectorAll("*")]) {
		for (const a of [...el.attributes]) {
			if (/^on/i.test(a.name) || /^(href|xlink:href)$/i.test(a.name)) el.removeAttribute(a.name);
		}
	}
	return h("figure", document.importNode(root, true));
}
