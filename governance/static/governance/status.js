// A request's status page, without reloading by hand. While a check runs (the "Checking now…" line
// is there), ask the page for its fingerprint every two seconds and reload it once something changed
// (a check that read a repository always changes it); a check the page stops following (after two
// minutes) leaves a line saying so in place of "Checking now…". A button that must wait
// before a new check counts the seconds down and comes back by itself. Without JavaScript the page
// still works: it says how long to wait, and reloading it shows the same thing.
(function () {
  "use strict";

  function followCheck() {
    var root = document.querySelector("[data-status-url]");
    var live = document.getElementById("live-status");
    if (!root || !live || !window.fetch) { return; }
    var polls = 0;
    function poll() {
      polls += 1;
      fetch(root.getAttribute("data-status-url"), { credentials: "same-origin", cache: "no-store" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (!body) { return; }
          if (body.fingerprint !== root.getAttribute("data-fingerprint")) {
            // A GET of the page itself: this view may be the answer to a form, which a reload would send again.
            window.location.replace(window.location.pathname);
            polls = Infinity;
            return;
          }
          if (!body.checking) { polls = 60; }  // no longer followed by the page, and nothing to show
        })
        .catch(function () { /* offline for a moment: try again */ })
        .then(function () {
          if (polls < 60) {
            window.setTimeout(poll, 2000);
          } else if (polls !== Infinity) {
            // Never a banner that stays: the check goes on in the background, the page no longer follows it.
            live.textContent = "No result yet: the check goes on in the background; reload this page later.";
          }
        });
    }
    window.setTimeout(poll, 2000);
  }

  function countDown(button) {
    var until = Date.now() + parseInt(button.getAttribute("data-wait-seconds"), 10) * 1000;
    var message = button.form && button.form.querySelector(".check-wait");
    var seconds = message && message.querySelector(".wait-seconds");
    function tick() {
      var left = Math.ceil((until - Date.now()) / 1000);
      if (left > 0) {
        button.disabled = true;
        if (seconds) { seconds.textContent = String(left); }
        window.setTimeout(tick, Math.min(1000, until - Date.now()));
        return;
      }
      button.disabled = false;
      if (message) { message.textContent = "You can ask for a check again now."; }
    }
    tick();
  }

  followCheck();
  Array.prototype.forEach.call(document.querySelectorAll("button[data-wait-seconds]"), countDown);
})();
