// view.js - open assay's exported Inspect logs in Inspect's own log
// viewer (the page bundled from entry.jsx) in Debian's Chromium and check
// what it shows against what the test expects: the log list (task,
// model), every sample with its epoch and score, and a sample's messages.
// A small static server stands in for a web server holding the logs: the
// viewer's static-http API reads logs/listing.json, then each .eval with
// HEAD and range requests.
//   SITE=DIR (index.html, viewer.js, viewer.css, logs/) EXPECT=FILE.json
//   CHROMIUM=PATH SHOTS=DIR node tests/viewer/view.js
// EXPECT: {"logs": [{"file", "task", "model", "accuracy",
//          "samples": [{"id", "epoch", "score"}]}],
//          "messages": {"file", "id", "epoch", "texts": [...]}}
// Prints ok/FAIL lines and "N passed, N failed, N skipped"
// (tests/integration/inspect-viewer.sh adds them to its own).
"use strict";
const fs = require("fs");
const http = require("http");
const path = require("path");
const web = path.join(__dirname, "..", "web");
const puppeteer = require(path.join(web, "node_modules", "puppeteer-core"));
const { counts, ok, bad, check, Shots } = require(path.join(web, "lib.js"));

const SITE = fs.realpathSync(process.env.SITE);
const EXPECT = JSON.parse(fs.readFileSync(process.env.EXPECT, "utf8"));
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json" };

// GET and HEAD of files under SITE, with single byte ranges (the viewer
// reads a .eval's central directory and members by range).
function serve(req, res) {
	let rel;
	try { rel = decodeURIComponent(new URL(req.url, "http://x").pathname); } catch { rel = ""; }
	const file = path.join(SITE, path.normalize(rel));
	let st = null;
	try { st = file.startsWith(SITE + path.sep) ? fs.statSync(file) : null; } catch { st = null; }
	if (!st || !st.isFile()) { res.writeHead(404, { "Content-Type": "text/plain" }); return res.end("not found"); }
	const data = fs.readFileSync(file);
	const head = { "Content-Type": TYPES[path.extname(file)] || "application/octet-stream", "Accept-Ranges": "bytes" };
	const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || "");
	const body = req.method === "HEAD" ? undefined : null;
	if (m) {
		const start = Number(m[1]), end = m[2] === "" ? data.length - 1 : Math.min(Number(m[2]), data.length - 1);
		if (start > end) { res.writeHead(416, { "Content-Range": `bytes */${data.length}` }); return res.end(); }
		res.writeHead(206, { ...head, "Content-Range": `bytes ${start}-${end}/${data.length}`, "Content-Length": end - start + 1 });
		return res.end(body === undefined ? undefined : data.subarray(start, end + 1));
	}
	res.writeHead(200, { ...head, "Content-Length": data.length });
	return res.end(body === undefined ? undefined : data);
}

// The rows of the samples list: [{id, epoch, score, answer}] from each
// row's link (#/logs/F/samples/sample/ID/EPOCH/) and its cells.
async function sampleRows(page) {
	return page.$$eval('.samples-list a[href*="/samples/sample/"]', as => as.map(a => {
		const m = /\/samples\/sample\/([^/]+)\/(\d+)\//.exec(a.getAttribute("href")) || [];
		const cell = sel => (a.querySelector(sel) || { innerText: "" }).innerText.trim();
		return { id: decodeURIComponent(m[1] || ""), epoch: Number(m[2]), sampleId: cell(".sample-id"),
			score: cell('[class*="_score_"]'), answer: cell(".sample-answer") };
	}));
}

// Wait until the page's text satisfies pred (the viewer loads in steps);
// false when it never does within the bound.
async function waitText(page, pred, ms = 30000) {
	try {
		await page.waitForFunction(new Function("return (" + pred + ")(document.body.innerText)"), { timeout: ms, polling: 200 });
		return true;
	} catch { return false; }
}

async function main() {
	const server = http.createServer(serve);
	await new Promise(r => server.listen(0, "127.0.0.1", r));
	const base = `http://127.0.0.1:${server.address().port}/index.html?log_dir=logs`;
	const shots = new Shots(process.env.SHOTS);
	const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM, headless: true,
		args: ["--no-sandbox", "--disable-gpu", "--no-first-run"] });
	const errors = [];
	try {
		const page = await browser.newPage();
		await page.setViewport({ width: 1400, height: 2400 });
		page.on("pageerror", e => errors.push(e.message));

		// The log list: one row per log with its task and model.
		await page.goto(base, { waitUntil: "load" });
		const models = EXPECT.logs.map(l => l.model);
		const listed = await waitText(page, `t => ${JSON.stringify(models)}.every(m => t.includes(m))`);
		const text = await page.evaluate(() => document.body.innerText);
		await shots.take(page, "log-list");
		check("the log list shows every log's model (" + models.join(", ") + ")", listed, text.slice(0, 400));
		for (const l of EXPECT.logs)
			check(`the log list shows ${l.file}, task ${l.task}`, text.includes(l.file) && text.includes(l.task), text.slice(0, 400));

		for (const l of EXPECT.logs) {
			await page.goto(`${base}#/logs/${l.file}/samples/`, { waitUntil: "load" });
			const n = l.samples.length;
			const loaded = await waitText(page, `t => t.includes("${n} Samples") || /error occurred/i.test(t)`);
			await shots.take(page, l.file.replace(/\.eval$/, "") + "-samples");
			const body = await page.evaluate(() => document.body.innerText);
			if (!check(`${l.file}: the viewer loads the log (${n} Samples)`, loaded && !/error occurred/i.test(body), body.slice(0, 600)))
				continue;
			check(`${l.file}: header names task ${l.task} and model ${l.model}`,
				await page.$eval(".task-title", e => e.innerText).catch(() => "") === l.task &&
				await page.$eval(".task-model", e => e.innerText).catch(() => "") === l.model, body.slice(0, 300));
			const metric = await page.$$eval('[class*="vertical-metric-value"]', es => es.map(e => e.innerText)).catch(() => []);
			check(`${l.file}: accuracy ${l.accuracy}`, metric[0] === l.accuracy, JSON.stringify(metric));
			const rows = await sampleRows(page);
			const key = r => `${r.id}#${r.epoch}:${r.score}`;
			const got = rows.map(key).sort(), want = l.samples.map(key).sort();
			check(`${l.file}: every sample listed with its epoch and score (${want.join(" ")})`,
				JSON.stringify(got) === JSON.stringify(want), "viewer shows " + JSON.stringify(got));
			check(`${l.file}: each row's id cell is its sample`, rows.length > 0 && rows.every(r => r.sampleId === r.id),
				JSON.stringify(rows.map(r => r.sampleId)));
		}

		// One sample's messages tab: the chat as Inspect renders it.
		const m = EXPECT.messages;
		await page.goto(`${base}#/logs/${m.file}/samples/sample/${encodeURIComponent(m.id)}/${m.epoch}/messages`, { waitUntil: "load" });
		const shown = await waitText(page, `t => ${JSON.stringify(m.texts)}.every(x => t.includes(x))`);
		const body = await page.evaluate(() => document.body.innerText);
		await shots.take(page, "sample-messages");
		for (const x of m.texts)
			check(`${m.id} epoch ${m.epoch}: the messages show ${JSON.stringify(x)}`, shown || body.includes(x),
				body.slice(0, 800));
		check("no script errors in the viewer", errors.length === 0, errors.join("; "));
	} finally {
		await browser.close();
		server.close();
	}
}

main().catch(e => bad("viewer walk", e && e.stack || e)).finally(() => {
	console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
	process.exitCode = counts.failed ? 1 : 0;
});
