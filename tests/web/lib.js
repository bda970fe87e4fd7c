// lib.js - what the browser tests share: results in the "ok / FAIL /
// skip" lines of tests/lib/testlib.sh, a page per person, logins through
// the login page, TOTP codes (RFC 6238 with node's HMAC), screenshots.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const counts = { passed: 0, failed: 0, skipped: 0 };
function ok(name) { counts.passed++; console.log("ok   " + name); }
function bad(name, why) { counts.failed++; console.log("FAIL " + name + ": " + String(why).slice(0, 600)); }
function skip(name, why) { counts.skipped++; console.log("skip " + name + ": " + why); }
function check(name, cond, why) { if (cond) ok(name); else bad(name, why || "assertion false"); return !!cond; }

function base32(s) {
	const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	let bits = "";
	for (const c of s.replace(/[=\s]/g, "").toUpperCase()) {
		const v = A.indexOf(c);
		if (v < 0) throw new Error("not base32: " + c);
		bits += v.toString(2).padStart(5, "0");
	}
	const out = [];
	for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
	return Buffer.from(out);
}

// The 6-digit code for step offset `ahead` (0 = now) of a base32 secret.
function totp(secret, ahead = 0) {
	const counter = Math.floor(Date.now() / 1000 / 30) + ahead;
	const msg = Buffer.alloc(8);
	msg.writeBigUInt64BE(BigInt(counter));
	const mac = crypto.createHmac("sha1", base32(secret)).update(msg).digest();
	const o = mac[mac.length - 1] & 15;
	const n = (mac.readUInt32BE(o) & 0x7fffffff) % 1000000;
	return String(n).padStart(6, "0");
}

class Shots {
	constructor(dir) { this.dir = dir; this.n = 0; fs.mkdirSync(dir, { recursive: true }); }
	async take(page, name, sel) {
		this.n++;
		if (sel) await page.$eval(sel, e => e.scrollIntoView({ block: "start" })).catch(() => null);
		const file = path.join(this.dir, String(this.n).padStart(2, "0") + "-" + name + ".png");
		await page.screenshot({ path: file, fullPage: false });
		return file;
	}
}

module.exports = { counts, ok, bad, skip, check, totp, Shots };
