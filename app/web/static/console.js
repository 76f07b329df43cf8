// A few lines of progressive enhancement; every page works without them.
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) { event.preventDefault(); }
});
document.addEventListener("DOMContentLoaded", function () {
  // "Show in my zone" without a linked specialist: use the browser's zone.
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.querySelectorAll("a[data-browser-zone]").forEach(function (link) {
    if (!zone) { return; }
    var url = new URL(link.href, window.location.href);
    url.searchParams.set("tz", zone);
    link.href = url.pathname + url.search;
    link.textContent = link.getAttribute("data-label").replace("%s", zone);
  });
});
