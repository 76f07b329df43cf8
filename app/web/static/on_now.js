// The team calendar's "On now": when the wallboard's events say something changed (a ring,
// a call, someone away), fetch the line again and swap it in; without this file the page
// still shows what was true when it loaded.
"use strict";
(function () {
  var line = document.getElementById("on-now");
  if (!line || !window.EventSource || !line.dataset.src) { return; }
  var pending = null;
  function refresh() {
    pending = null;
    fetch(line.dataset.src, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    }).then(function (html) {
      line.innerHTML = html;
    }).catch(function () { /* the next change or tick tries again */ });
  }
  var source = new EventSource("/wallboard/events");
  source.addEventListener("wallboard", function () {
    if (pending === null) { pending = setTimeout(refresh, 250); }
  });
  source.addEventListener("ready", function () { line.setAttribute("data-live", "yes"); });
  // Shifts start and end by themselves: look again every minute.
  setInterval(refresh, 60000);
})();
