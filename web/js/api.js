// api.js - the one place that speaks to the service (docs/API.md): JSON
// over /api/v1 with the session cookie, the CSRF header on every
// state-changing request, errors as ApiError {status, code, message, field}.

let csrf = null;

export class ApiError extends Error {
	constructor(status, code, message, field, extra) {
		super(message || code || ("HTTP " + status));
		this.status = status;
		this.code = code || "http_" + status;
		this.field = field || null;
		this.extra = extra || {};
	}
}

export function setCsrf(t) { csrf = t || null; }

export async function call(method, path, body) {
	const opts = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
	if (body !== undefined) {
		opts.headers["Content-Type"] = "application/json";
		opts.body = JSON.stringify(body);
	}
	if (method !== "GET" && csrf) opts.headers["X-CSRF-Token"] = csrf;
	let res;
	try {
		res = await fetch("/api/v1" + path, opts);
	} catch (e) {
		throw new ApiError(0, "network", "The service did not answer (" + e.message + ").");
	}
	const type = res.headers.get("Content-Type") || "";
	let data = null;
	if (type.startsWith("application/json")) {
		try { data = await res.json(); } catch (e) { data = null; }
	}
	if (!res.ok) {
		const er = (data && data.error) || {};
		throw new ApiError(res.status, er.code, er.message, er.field, er);
	}
	return data;
}

export const get = p => call("GET", p);
export const post = (p, b) => call("POST", p, b === undefined ? {} : b);
export const del = p => call("DELETE", p);

// Every item of a list, following "next" (bounded: 20 pages).
export async function list(path) {
	const items = [];
	let after = null;
	for (let i = 0; i < 20; i++) {
		const sep = path.includes("?") ? "&" : "?";
		const page = await get(path + sep + "limit=500" + (after ? "&after=" + after : ""));
		if (Array.isArray(page)) { items.push(...page); break; }
		if (!page || !Array.isArray(page.items)) break;
		items.push(...page.items);
		if (!page.next) break;
		after = page.next;
	}
	return items;
}

// A list the principal may not read (403/404/501) is shown as empty with
// a note instead of failing the whole page.
export async function listOr(path, notes) {
	try {
		return await list(path);
	} catch (e) {
		if (notes && e instanceof ApiError && e.status !== 401) notes.push(path + ": " + e.message);
		if (e instanceof ApiError && e.status === 401) throw e;
		return [];
	}
}

export async function getOr(path) {
	try { return await get(path); } catch (e) {
		if (e instanceof ApiError && e.status === 401) throw e;
		return null;
	}
}
