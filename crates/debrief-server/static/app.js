// Debrief: small comforts on top of pages that work without JavaScript.
(function () {
  "use strict";

  // Keep what people type: warn before leaving a page with an edited, unsaved form.
  var dirty = new Set();
  document.addEventListener("input", function (e) {
    var form = e.target.closest && e.target.closest("form[method=post]");
    if (form && !form.closest(".inline")) dirty.add(form);
  });
  document.addEventListener("submit", function (e) { dirty.delete(e.target); });
  window.addEventListener("beforeunload", function (e) {
    if (dirty.size > 0) { e.preventDefault(); e.returnValue = ""; }
  });

  // Open the editor a link points at (#event-12 opens nothing; #add-event opens the form).
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (!id) return;
    var el = document.getElementById(id);
    if (el && el.tagName === "DETAILS") el.open = true;
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();

  // Escape closes the editor the focus is in.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var d = document.activeElement && document.activeElement.closest("details.edit[open]");
    if (d && !dirty.has(d.querySelector("form"))) {
      d.open = false;
      d.querySelector("summary").focus();
    }
  });

  // The session's CSRF token, for scripts that call the API.
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.debrief = { csrf: meta ? meta.content : "" };
})();
