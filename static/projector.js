// The projector view: live updates by server-sent events. A vote moves its count in place;
// anything else (a new idea, the mode, the timer), and every reconnect, fetches the whole
// state again, so nothing that happened while the connection was down is missed.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root) return;
  var stateUrl = root.dataset.stateUrl;
  var status = document.getElementById("live-status");
  var fetching = false;
  var again = false;

  function refresh() {
    if (fetching) { again = true; return; }
    fetching = true;
    fetch(stateUrl, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { document.getElementById("live-state").innerHTML = html; tick(); })
      .catch(function () { again = true; })
      .finally(function () {
        fetching = false;
        if (again) { again = false; setTimeout(refresh, 300); }
      });
  }

  function onMessage(event) {
    var message;
    try { message = JSON.parse(event.data); } catch (e) { return; }
    var list = document.querySelector(".live-ideas");
    // A room joins in a burst: one fetch for all of them, within a second.
    if (message.kind === "join") { refreshSoon(1000); return; }
    if (message.kind === "vote" && list && !list.classList.contains("mode-results")) {
      var count = document.querySelector('[data-idea="' + message.idea_id + '"] .count');
      if (count) { count.textContent = message.vote_count; refreshSoon(); return; }
    }
    refresh();
  }

  // The totals follow the counts (and the people count the joins), at most every 2 s however
  // many votes and joins arrive.
  var soon = null;
  function refreshSoon(delay) {
    if (soon) return;
    soon = setTimeout(function () { soon = null; refresh(); }, delay || 2000);
  }

  function tick() {
    var timer = document.querySelector("[data-ends-at]");
    if (!timer) return;
    var left = Math.max(0, Math.round((Date.parse(timer.dataset.endsAt) - Date.now()) / 1000));
    timer.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
  }

  var lost = false;
  var source = new EventSource(root.dataset.streamUrl);
  source.addEventListener("message", onMessage);
  source.addEventListener("open", function () {
    if (lost) { lost = false; status.hidden = true; refresh(); }
  });
  source.addEventListener("error", function () { lost = true; status.hidden = false; });
  setInterval(tick, 1000);
})();
