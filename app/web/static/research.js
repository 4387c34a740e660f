/* The research page (#14): the filter rows offer the operators of the chosen field's kind and, for
   catalogue fields, a multi-select of the catalogue's values; changing the page (entity) reloads the form. */
(function () {
  "use strict";
  var info = document.getElementById("fs-research-fields");
  if (!info) { return; }
  var fields = JSON.parse(info.textContent);
  var operators = JSON.parse(document.getElementById("fs-research-operators").textContent);
  var noValue = {empty: 1, not_empty: 1, "true": 1, "false": 1};

  function show(el, on) { el.style.display = on ? "" : "none"; el.disabled = !on; }

  function update(row, keepOp) {
    var fieldSel = row.querySelector(".fs-filter-field"), opSel = row.querySelector(".fs-filter-op");
    var value = row.querySelector(".fs-filter-value"), value2 = row.querySelector(".fs-filter-value2");
    var choice = row.querySelector(".fs-filter-choice");
    var f = fields[fieldSel.value];
    var current = keepOp ? (opSel.value || opSel.getAttribute("data-current")) : "";
    opSel.innerHTML = "";
    if (!f) { show(opSel, false); show(value, false); show(value2, false); show(choice, false); return; }
    var ops = operators[f.family] || {};
    Object.keys(ops).forEach(function (key) {
      var o = document.createElement("option"); o.value = key; o.textContent = ops[key];
      if (key === current) { o.selected = true; }
      opSel.appendChild(o);
    });
    show(opSel, true);
    var op = opSel.value;
    var isChoice = f.family === "choice" && (op === "in" || op === "not_in");
    if (isChoice && !choice.options.length) {
      var chosen = JSON.parse(choice.getAttribute("data-current") || "[]");
      f.values.forEach(function (pair) {
        var o = document.createElement("option"); o.value = pair[0]; o.textContent = pair[1];
        if (chosen.indexOf(pair[0]) >= 0) { o.selected = true; }
        choice.appendChild(o);
      });
    }
    if (!isChoice) { choice.innerHTML = ""; }
    show(choice, isChoice);
    show(value, !isChoice && !noValue[op]);
    show(value2, op === "between");
    value.placeholder = op === "between" ? "von" : (f.family === "date" ? "TT.MM.JJJJ" : "Wert");
  }

  document.querySelectorAll(".fs-filter").forEach(function (row) {
    update(row, true);
    row.querySelector(".fs-filter-field").addEventListener("change", function () { update(row, false); });
    row.querySelector(".fs-filter-op").addEventListener("change", function () { update(row, true); });
  });
  var entity = document.getElementById("fs-entity");
  if (entity) {
    entity.addEventListener("change", function () {
      window.location = window.location.pathname + "?e=" + encodeURIComponent(entity.value);
    });
  }
}());
