// The alerts page: while a delivery is pending, read the page again every 2 s and show
// the deliveries as they are now (a test send's outcome appears without a reload).
"use strict";
(function () {
  function refresh() {
    var box = document.getElementById("deliveries");
    if (!box || box.getAttribute("data-pending") !== "yes") { return; }
    setTimeout(function () {
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("deliveries");
          if (fresh) { box.replaceWith(fresh); }
          refresh();
        })
        .catch(function () { setTimeout(refresh, 5000); });
    }, 2000);
  }
  refresh();
})();
