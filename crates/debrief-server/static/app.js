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

  // The blameless linter, inline: while someone types in a field of a form marked data-lint,
  // findings appear under it after a short pause, each with a suggested rephrasing.
  var article = document.querySelector("article[data-lint-url]");
  function showFindings(field, findings) {
    var list = field.parentNode.querySelector("ul.lint-inline");
    if (!list) {
      list = document.createElement("ul");
      list.className = "lint-inline";
      list.setAttribute("aria-live", "polite");
      field.parentNode.appendChild(list);
    }
    list.textContent = "";
    findings.forEach(function (f) {
      var li = document.createElement("li");
      var head = document.createElement("strong");
      head.textContent = "\u201c" + f.matched + "\u201d";
      li.appendChild(head);
      li.appendChild(document.createTextNode(" \u2014 " + f.message + " "));
      if (f.suggestion) {
        var t = document.createElement("span");
        t.className = "try";
        t.textContent = "Try: " + f.suggestion;
        li.appendChild(t);
      }
      list.appendChild(li);
    });
  }
  if (article) {
    var timers = new WeakMap();
    document.addEventListener("input", function (e) {
      var field = e.target;
      var form = field.closest && field.closest("form[data-lint]");
      if (!form || !(field.tagName === "TEXTAREA" || field.type === "text" || !field.type)) return;
      clearTimeout(timers.get(field));
      timers.set(field, setTimeout(function () {
        fetch(article.dataset.lintUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": window.debrief.csrf },
          body: JSON.stringify({ text: field.value, section: form.dataset.lint, postmortem: article.dataset.key })
        }).then(function (r) { return r.ok ? r.json() : { findings: [] }; })
          .then(function (out) {
            showFindings(field, out.findings.filter(function (f) { return f.rule.indexOf("blame/") === 0; }));
          })
          .catch(function () {});
      }, 400));
    });
  }
})();
