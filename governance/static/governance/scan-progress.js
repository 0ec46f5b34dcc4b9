// Live progress on a scan's page: every two seconds, ask the page for the scan's counts,
// move the bar, and reload once the scan is done or failed to show the verdict. Without
// JavaScript the page still works: it shows the same bar and refreshes itself.
(function () {
  "use strict";
  var root = document.querySelector("[data-scan-url]");
  if (!root || root.getAttribute("data-scan-open") !== "1" || !window.fetch) { return; }
  var bar = document.getElementById("scan-progress");
  var finished = false;
  function show(id, text) {
    var node = document.getElementById(id);
    if (node) { node.textContent = text; }
  }
  function poll() {
    fetch(root.getAttribute("data-scan-url"), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (scan) {
        if (!scan) { return; }
        if (scan.status === "done" || scan.status === "failed") {
          finished = true;
          window.location.reload();
          return;
        }
        if (scan.files_to_scan > 0) {
          bar.max = scan.files_to_scan;
          bar.value = scan.files_done;
        }
        bar.textContent = scan.files_done + " of " + scan.files_to_scan;
        show("scan-progress-text", scan.files_done + " of " + scan.files_to_scan);
        show("scan-step", scan.step || "waiting for a worker");
        show("scan-scanned", String(scan.files_scanned));
        show("scan-reused", String(scan.files_reused));
      })
      .catch(function () { /* offline for a moment: try again */ })
      .then(function () { if (!finished) { window.setTimeout(poll, 2000); } });
  }
  window.setTimeout(poll, 2000);
})();
