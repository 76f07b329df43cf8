// The wallboard: when an event says something changed, fetch the tiles again and swap
// them in (at most every quarter second); the page works without this file, by reload.
"use strict";
(function () {
  var tiles = document.getElementById("tiles");
  var live = document.getElementById("wallboard-live");
  if (!tiles || !window.EventSource) { return; }
  var pending = null;
  function refresh() {
    pending = null;
    fetch("/wallboard/tiles", { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    }).then(function (html) {
      tiles.innerHTML = html;
      live.textContent = "Live: updated " + new Date().toLocaleTimeString();
    }).catch(function () { live.textContent = "Could not refresh; retrying on the next change."; });
  }
  var source = new EventSource("/wallboard/events");
  source.addEventListener("wallboard", function () {
    if (pending === null) { pending = setTimeout(refresh, 250); }
  });
  source.addEventListener("ready", function () {
    tiles.setAttribute("data-live", "yes");
    refresh();
  });
  source.onerror = function () { live.textContent = "Reconnecting…"; };
  // Waits grow by themselves: tick the figures every 15 s even without events.
  setInterval(refresh, 15000);
})();
