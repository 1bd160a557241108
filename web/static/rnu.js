// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Move focus to the first field in error (or to the alert) so screen readers announce it.
  document.addEventListener("DOMContentLoaded", function () {
    var invalid = document.querySelector("[aria-invalid=true]");
    if (invalid) { invalid.focus(); return; }
    var alert = document.querySelector("main [role=alert]");
    var main = document.getElementById("contenido");
    if (alert && main) { main.focus(); }
    // Statistics filters: apply a choice at once.
    var filters = document.querySelectorAll(".filtros select");
    Array.prototype.forEach.call(filters, function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    // Dependent choices (department → province → district, a volunteer's district → its
    // programs): a choice reloads only the form's zone, from the very page a browser without
    // this script gets by pressing the form's button. On any failure, the form is submitted.
    var zone = document.querySelector("[data-recarga-zona]");
    if (zone && window.fetch && window.DOMParser && window.URLSearchParams && window.FormData) {
      document.documentElement.className += " con-js";
      zone.addEventListener("change", function (event) {
        var select = event.target;
        var form = select.form;
        if (select.tagName !== "SELECT" || !form || !form.hasAttribute("data-recarga")) { return; }
        var params = new URLSearchParams(new FormData(form));
        var levels = form.getAttribute("data-recarga").split(" ");
        levels.slice(levels.indexOf(select.name) + 1).forEach(function (name) { params.delete(name); });
        var url = form.getAttribute("action") + "?" + params.toString();
        fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
          .then(function (response) {
            if (!response.ok) { throw new Error(String(response.status)); }
            return response.text();
          })
          .then(function (text) {
            var fresh = new DOMParser().parseFromString(text, "text/html").getElementById(zone.id);
            if (!fresh) { throw new Error("no zone"); }
            zone.innerHTML = fresh.innerHTML;
            if (window.history && history.replaceState) { history.replaceState(null, "", url); }
            var again = document.getElementById(select.id);
            if (again) { again.focus(); }
            var live = document.getElementById("recarga-aviso");
            if (live) { live.textContent = fresh.getAttribute("data-aviso") || ""; }
          })
          .catch(function () { form.submit(); });
      });
    }
    // Tracking code: a copy button where the clipboard API exists.
    var code = document.getElementById("codigo");
    if (code && code.tagName === "P" && navigator.clipboard) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = "Copiar código";
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(code.textContent.trim()).then(function () {
          button.textContent = "Código copiado";
        });
      });
      code.insertAdjacentElement("afterend", button);
    }
  });
})();
