// The smallest page that mounts Inspect's own log viewer
// (@metrevals/inspect-log-viewer) over a directory of logs served by
// plain static HTTP: the viewer's static-http API reads LOG_DIR/listing.json
// and then each .eval with range requests. LOG_DIR comes from ?log_dir=.
import { createRoot } from "react-dom/client";
import {
  App,
  clientApi,
  initializeStore,
  simpleHttpApi,
} from "@metrevals/inspect-log-viewer";
import "@metrevals/inspect-log-viewer/styles/index.css";

const logDir = new URLSearchParams(window.location.search).get("log_dir") || "logs";
const api = clientApi(simpleHttpApi(logDir));
initializeStore(api, {
  downloadFiles: false,
  downloadLogs: false,
  webWorkers: false,
  streamSamples: false,
  streamSampleData: false,
});
createRoot(document.getElementById("app")).render(<App api={api} />);
