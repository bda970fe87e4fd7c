// dom.js - building the page without ever parsing data as markup.
// Every value goes in through textContent or a checked attribute; there is
// no innerHTML anywhere in web/ (tests/web/flows.js greps for it).

// Longest text shown in place; the rest is cut with a visible mark (the
// whole value is in the element's title only when that is short enough).
export const SHOW_MAX = 300;

const SAFE_ATTR = /^(id|class|for|type|name|value|placeholder|role|tabindex|title|lang|dir|min|max|step|rows|cols|colspan|rowspan|scope|autocomplete|inputmode|pattern|maxlength|minlength|download|rel|target|datetime|width|height|viewBox|accept|list|method|action|aria-[a-z]+|data-[a-z-]+)$/;
const BOOL_ATTR = new Set(["disabled", "checked", "selected", "required", "readonly", "hidden", "multiple", "open", "autofocus"]);

// A link's target: only this application's routes and its own API paths.
export function safeHref(v) {
	const s = String(v);
	return /^(#\/|\/api\/v1\/|\/(?!\/))/.test(s) ? s : "#/";
}

// h("tag.class", {attrs}, children...): children are nodes, strings
// (text), numbers, arrays or null. Event handlers are functions under
// "on" (addEventListener), never attributes.
export function h(spec, attrs, ...kids) {
	const m = /^([a-z0-9]+)((?:\.[a-z0-9_-]+)*)$/i.exec(spec);
	if (!m) throw new Error("bad element spec " + spec);
	const svg = m[1] === "svg" || (attrs && attrs.svg);
	const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", m[1])
		: document.createElement(m[1]);
	if (m[2]) el.setAttribute("class", m[2].slice(1).split(".").join(" "));
	if (attrs && (attrs.nodeType || typeof attrs !== "object" || Array.isArray(attrs))) {
		kids.unshift(attrs);
		attrs = null;
	}
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false || k === "svg") continue;
		if (k === "on") {
			for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
		} else if (k === "href") {
			el.setAttribute("href", safeHref(v));
		} else if (k === "class" && m[2]) {
			el.setAttribute("class", el.getAttribute("class") + " " + v);
		} else if (BOOL_ATTR.has(k)) {
			if (v) el.setAttribute(k, "");
		} else if (SAFE_ATTR.test(k) || (svg && /^[a-z][a-z0-9-]*$/i.test(k) && !/^on/i.test(k))) {
			el.setAttribute(k, String(v));
		} else {
			throw new Error("attribute not allowed: " + k);
		}
	}
	add(el, kids);
	return el;
}

function add(el, kids) {
	for (const k of kids) {
		if (k === null || k === undefined || k === false) continue;
		if (Array.isArray(k)) add(el, k);
		else if (k.nodeType) el.appendChild(k);
		else el.appendChild(document.createTextNode(String(k)));
	}
}

// A value someone (a user, a developer, a model) supplied: isolated from
// the surrounding text's direction (bidi overrides stay inside), cut at
// SHOW_MAX characters with a mark, never markup.
// Direction controls (embeddings, overrides, isolates, marks) are shown
// as visible marks instead of acting on the text: "gnp.exe" with an
// override must not read as "exe.png".
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
function visible(s) {
	const out = [];
	let last = 0;
	for (const m of s.matchAll(BIDI)) {
		if (m.index > last) out.push(s.slice(last, m.index));
		out.push(h("span.ctl", { title: "a text-direction control character" }, "[U+" + m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0") + "]"));
		last = m.index + m[0].length;
	}
	if (last < s.length) out.push(s.slice(last));
	return out;
}

export function val(v, max = SHOW_MAX) {
	const s = v === null || v === undefined ? "" : String(v);
	const cut = s.length > max;
	const shown = cut ? s.slice(0, max) : s;
	const el = h("bdi.val", cut ? { title: "cut: " + s.length + " characters in all" } : null, visible(shown));
	if (cut) return h("span", el, h("span.cut", " … (" + (s.length - max) + " more characters)"));
	return el;
}

export function clear(el) {
	while (el.firstChild) el.removeChild(el.firstChild);
	return el;
}

export function mount(el, ...kids) {
	clear(el);
	add(el, kids);
	return el;
}

// A time with its zone: the browser's local time and UTC in the title.
export function when(t) {
	if (t === null || t === undefined || t === "") return h("span.mute", "—");
	const d = typeof t === "number" ? new Date(t * (t < 1e12 ? 1000 : 1)) : new Date(t);
	if (isNaN(d.getTime())) return val(t);
	const local = d.toLocaleString("en-GB", {
		year: "numeric", month: "short", day: "2-digit", hour: "2-digit",
		minute: "2-digit", timeZoneName: "short",
	});
	return h("time", { datetime: d.toISOString(), title: d.toISOString().replace(".000Z", "Z") + " (UTC)" }, local);
}

export function day(t) {
	const d = new Date(t);
	return isNaN(d.getTime()) ? String(t) : d.toISOString().slice(0, 10);
}

export function num(n, digits = 0) {
	if (n === null || n === undefined || n === "") return "—";
	const x = Number(n);
	if (!isFinite(x)) return "—";
	return x.toLocaleString("en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function usd(n) {
	return n === null || n === undefined ? "—" : "$" + num(n, 2);
}

export function badge(text, kind) {
	return h("span.badge", { class: "b-" + String(kind || text).replace(/[^a-z0-9-]/gi, "") }, String(text));
}

// A table: cols [{head, cell(row) -> node|string, num?}], rows; an
// empty text when there are none.
export function table(cols, rows, empty = "Nothing here yet.", caption) {
	if (!rows || rows.length === 0) return h("p.empty", empty);
	return h("div.tablewrap",
		h("table",
			caption ? h("caption", caption) : null,
			h("thead", h("tr", cols.map(c => h("th", { scope: "col", class: c.num ? "n" : null }, c.head)))),
			h("tbody", rows.map(r => h("tr", cols.map(c => h("td", { class: c.num ? "n" : null }, c.cell(r))))))));
}

// Form fields with their error placed next to them (role=alert).
export function field(label, input, help) {
	const id = input.id || ("f-" + (input.name || Math.random().toString(36).slice(2)));
	input.id = id;
	const err = h("p.ferr", { id: id + "-err", role: "alert" });
	input.setAttribute("aria-describedby", id + "-err" + (help ? " " + id + "-help" : ""));
	return h("div.field", h("label", { for: id }, label), input,
		help ? h("p.help", { id: id + "-help" }, help) : null, err);
}

export function fieldError(form, name, msg) {
	const input = form.querySelector("[name=\"" + CSS.escape(name) + "\"]");
	const err = input && form.querySelector("#" + CSS.escape(input.id + "-err"));
	if (err) {
		err.textContent = msg;
		input.setAttribute("aria-invalid", "true");
		input.focus();
		return true;
	}
	return false;
}

export function clearErrors(form) {
	form.querySelectorAll(".ferr").forEach(e => { e.textContent = ""; });
	form.querySelectorAll("[aria-invalid]").forEach(e => e.removeAttribute("aria-invalid"));
	const top = form.querySelector(".formerr");
	if (top) top.textContent = "";
}

export function formValues(form) {
	const o = {};
	for (const el of form.elements) {
		if (!el.name || el.disabled) continue;
		if (el.type === "checkbox") o[el.name] = el.checked;
		else if (el.type === "number") o[el.name] = el.value === "" ? null : Number(el.value);
		else if (el.tagName === "SELECT" && el.multiple) o[el.name] = [...el.selectedOptions].map(x => x.value);
		else o[el.name] = el.value;
	}
	return o;
}
