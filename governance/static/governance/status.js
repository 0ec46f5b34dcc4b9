// Live progress on a request's status page: while a check runs, ask the page for its
// fingerprint every two seconds and reload once something changed. Without JavaScript
// the page still works: reloading it shows the same thing.
(function () {
  "use strict";
  var root = document.querySelector("[data-status-url]");
  if (!root || !window.fetch) { return; }
  var polls = 0;
  function poll() {
    polls += 1;
    fetch(root.getAttribute("data-status-url"), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        if (body.fingerprint !== root.getAttribute("data-fingerprint")) { window.location.reload(); return; }
        if (!body.checking) {
          var live = document.getElementById("live-status");
          if (live) { live.textContent = "Checked: reload for the latest."; }
          polls = Infinity;
        }
      })
      .catch(function () { /* offline for a moment: try again */ })
      .then(function () { if (polls < 60) { window.setTimeout(poll, 2000); } });
  }
  window.setTimeout(poll, 2000);
})();
