// routes.js - hash routes to views.
import { loginView } from "./views/login.js";
import { dashView } from "./views/dash.js";
import { orgsView, orgView, peopleView, personView, termsView } from "./views/orgs.js";
import { modelsView, modelView } from "./views/models.js";
import { grantsView } from "./views/grants.js";
import { campaignsView, newCampaignView, campaignView } from "./views/campaigns.js";
import { runView, episodeView } from "./views/runs.js";
import { reportsView } from "./views/reports.js";
import { auditView, exposureView } from "./views/audit.js";
import { accountView } from "./views/account.js";
import { aboutView } from "./views/about.js";

const id = "([0-9]{1,18})";
export const routes = [
	["/login", loginView], ["/", dashView],
	["/orgs", orgsView], ["/orgs/" + id, orgView],
	["/people", peopleView], ["/people/" + id, personView], ["/terms", termsView],
	["/models", modelsView], ["/models/" + id, modelView],
	["/grants", grantsView],
	["/campaigns", campaignsView], ["/campaigns/new", newCampaignView], ["/campaigns/" + id, campaignView],
	["/runs/" + id, runView], ["/runs/" + id + "/episodes/" + id, episodeView],
	["/reports", reportsView],
	["/audit", () => auditView((location.hash.split("?")[1]) || "")], ["/exposure", exposureView],
	["/account", accountView], ["/about", aboutView],
].map(([p, view]) => ({ re: new RegExp("^" + p + "$"), view }));
