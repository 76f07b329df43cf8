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
// A form with data-wait: while the server works (the planner solves for seconds), say so,
// count the seconds and keep the button from sending the form twice.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var id = form.getAttribute && form.getAttribute("data-wait");
  if (!id || event.defaultPrevented) { return; }
  var box = document.getElementById(id);
  if (!box) { return; }
  box.hidden = false;
  form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
  var text = box.querySelector("[data-wait-text]");
  var limit = form.elements.namedItem("time_limit_seconds");
  if (text && limit && text.getAttribute("data-template")) {
    text.textContent = text.getAttribute("data-template").replace("%s", limit.value);
  }
  var base = text ? text.textContent : "";
  var started = Date.now();
  window.setInterval(function () {
    var s = Math.round((Date.now() - started) / 1000);
    if (text) { text.textContent = base + " " + s + " s so far."; }
  }, 1000);
});
