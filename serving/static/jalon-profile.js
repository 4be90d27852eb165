/* Jalon advisor page: the profile form's helpers (window.JalonProfile): which inputs the
 * served model requires, the reference-filled local rate and tension, numbers written the
 * French way, and the plausibility warnings (which never block).
 */
(function () {
  "use strict";

  var F = window.JalonFormat, D = window.JalonDom;
  var el = D.el, clear = D.clear, show = D.show;
  var $ = function (id) { return document.getElementById(id); };
  var profileForm = $("profile-form");
  var labels = JSON.parse($("jalon-labels").textContent);
  var REFERENCE = JSON.parse($("jalon-reference").textContent);
  var SENSITIVE = labels.sensitive || [];
  function field(name) { return profileForm.querySelector('[data-kind][name="' + name + '"]'); }

  /** Which inputs the served model needs: « Non renseigné » only where training saw the input missing. */
  function applyModelInputs(spec) {
    (spec.required || []).forEach(function (name) {
      var input = field(name);
      if (!input || input.required) return;
      input.required = true;
      input.setAttribute("aria-required", "true");
      var label = profileForm.querySelector('label[for="' + input.id + '"]');
      if (label && !label.querySelector("abbr")) label.appendChild(el("abbr", { title: "obligatoire", text: " *" }));
      var empty = input.tagName === "SELECT" ? input.querySelector('option[value=""]') : null;
      if (empty) empty.textContent = "— choisir —";
      var hint = $(input.id + "-hint");
      if (hint) hint.textContent = "Donnée sensible, utilisée par le modèle et auditée. Obligatoire\u202f: ce modèle ne l'a jamais vue manquer à l'apprentissage.";
    });
    (spec.may_be_missing || []).forEach(function (name) {
      var input = field(name);
      var hint = input && $(input.id + "-hint");
      if (input && !input.required && hint && SENSITIVE.indexOf(name) >= 0) {
        hint.textContent = "Donnée sensible, utilisée par le modèle et auditée. Facultatif\u202f: « Non renseigné » possible.";
      }
    });
  }

  /** Local unemployment and occupation tension come from the reference table, not from typing. */
  function applyReference() {
    var agency = (field("agency_id").value || "").trim(), domain = field("target_occupation_domain").value;
    var values = {
      local_unemployment_rate: REFERENCE.unemployment[agency],
      occupation_tension: (REFERENCE.tension[agency] || {})[domain]
    };
    Object.keys(values).forEach(function (name) {
      var input = field(name), note = $(input.id + "-reference"), v = values[name];
      if (typeof v === "number") {
        writeNumber(input, v);
        input.readOnly = true;
        note.textContent = "Rempli d'après l'agence " + agency + (name === "occupation_tension" ? " et le domaine du métier" : "") +
          ". " + REFERENCE.source_fr;
      } else {
        if (input.readOnly) input.value = "";
        input.readOnly = false;
        note.textContent = agency ? "L'agence " + agency + " n'est pas dans le référentiel\u202f: saisissez la valeur." : "Rempli d'après l'agence.";
      }
      show(note, true);
    });
  }

  function writeNumber(input, v) {
    var scale = input.dataset.scale === "percent" ? 100 : 1;
    input.value = F.num(Number((v * scale).toFixed(6)));
  }

  /** Implausible combinations: warned about, never blocking (the advisor knows the person). */
  function plausibility(p) {
    var warnings = [];
    if (typeof p.age === "number" && typeof p.experience_years === "number" && p.experience_years > Math.max(0, p.age - 14)) {
      warnings.push(F.plural(p.experience_years, "an") + " d'expérience pour une personne de " + p.age +
        " ans\u202f: vérifiez l'âge et l'expérience dans le métier recherché.");
    }
    if (p.unemployment_benefit === false && typeof p.benefit_days_left === "number" && p.benefit_days_left > 0) {
      warnings.push("Pas d'indemnisation (ARE) mais " + F.plural(p.benefit_days_left, "jour") + " d'indemnisation restants\u202f: vérifiez l'un des deux.");
    }
    if (typeof p.age === "number" && typeof p.registration_months === "number" && p.registration_months > Math.max(0, p.age - 16) * 12) {
      warnings.push("Inscription depuis " + p.registration_months + " mois pour une personne de " + p.age + " ans\u202f: vérifiez.");
    }
    if (p.last_contract === "NONE" && typeof p.months_worked_24m === "number" && p.months_worked_24m > 0) {
      warnings.push("Aucun dernier contrat, mais " + p.months_worked_24m + " mois travaillés sur 24\u202f: vérifiez.");
    }
    return warnings;
  }

  function showWarnings(warnings) {
    var list = $("profile-warning-list");
    clear(list);
    warnings.forEach(function (w) { list.appendChild(el("li", { text: w })); });
    show($("profile-warnings"), warnings.length > 0);
  }


  window.JalonProfile = {
    applyModelInputs: applyModelInputs,
    applyReference: applyReference,
    writeNumber: writeNumber,
    plausibility: plausibility,
    showWarnings: showWarnings
  };
})();
