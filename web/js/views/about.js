// about.js - what these pages are and how they keep data inert.
import { h } from "../dom.js";

export async function aboutView() {
	return {
		title: "About",
		node: h("section", h("h1", "About these pages"),
			h("p", "These pages are served by ", h("code", "assay serve"), " from files shipped with it; they load nothing from anywhere else (no CDN, font or script of a third party) and run under a strict Content-Security-Policy."),
			h("p", "Everything a person or a model supplied is shown as text, never as markup. Times are shown in your browser's time zone, with UTC in each time's tooltip."),
			h("p", "Every page is a view over the documented API (docs/API.md): what you cannot do here, the service refuses as well.")),
	};
}
