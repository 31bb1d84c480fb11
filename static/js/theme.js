// Bootstrap 5.3 colour modes following the browser's prefers-color-scheme (SPEC 4).
// Loaded in <head> so the page is painted in its scheme at once; without script the page is light.
(function () {
  "use strict";
  var query = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  function apply() {
    document.documentElement.setAttribute("data-bs-theme", query && query.matches ? "dark" : "light");
  }
  apply();
  if (query && query.addEventListener) { query.addEventListener("change", apply); }
})();
