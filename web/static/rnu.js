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
