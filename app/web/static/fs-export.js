/* Progress of an XLSX export (#14): a link with data-fs-export gets a random token; while the server writes
   the file, the page polls /export-progress/<token> and shows how many rows are written. */
(function () {
  "use strict";
  var german = new Intl.NumberFormat("de-DE");
  function token() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-fs-export]") : null;
    if (!link) { return; }
    event.preventDefault();
    var t = token();
    var total = parseInt(link.getAttribute("data-total") || "0", 10);
    var box = document.getElementById("fs-export-progress");
    if (!box) {
      box = document.createElement("div");
      box.id = "fs-export-progress";
      box.className = "alert alert-info";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      link.parentNode.insertBefore(box, link.nextSibling);
    }
    box.style.display = "";
    box.textContent = "Export wird erstellt …";
    var url = link.href + (link.href.indexOf("?") >= 0 ? "&" : "?") + "_export_token=" + t;
    var started = Date.now();
    var timer = window.setInterval(function () {
      fetch("/export-progress/" + t, {credentials: "same-origin"}).then(function (r) { return r.json(); })
        .then(function (p) {
          if (p.done) {
            box.textContent = "Export fertig – der Download beginnt.";
            window.clearInterval(timer);
            window.setTimeout(function () { box.style.display = "none"; }, 4000);
          } else if (!p.waiting) {
            var text = "Export läuft … " + german.format(p.rows) + " Zeilen";
            if (total > 0) { text += " von " + german.format(total) + " (" + Math.min(99, Math.floor(100 * p.rows / total)) + " %)"; }
            box.textContent = text;
          } else if (Date.now() - started > 600000) {
            window.clearInterval(timer);
          }
        }).catch(function () { /* next tick */ });
    }, 700);
    window.location.href = url;
  });
}());
