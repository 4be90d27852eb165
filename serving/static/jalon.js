/* Jalon advisor page: sign in, the person's own view, profile -> suggestion, decision.
 *
 * Vanilla JS, no dependency. Every value coming from the API is written with textContent
 * (never innerHTML). The bearer token lives in sessionStorage only (this tab, until it is
 * closed). Loaded after jalon-format.js (formatting,
 * DOM helpers), jalon-api.js (the API, errors in French), jalon-render.js (drawing a
 * suggestion) and jalon-profile.js (form helpers); jalon-person.js (recent decisions, documents,
 * contests, re-examination) uses it through window.JalonApp.
 *
 * A shown suggestion belongs to the profile it was computed from: any change to the form
 * (a field, the person's own view, « Charger un exemple », « Vider ») withdraws it and its
 * decision form, so a decision can never be recorded for another profile than the one shown.
 */
(function () {
  "use strict";

  var F = window.JalonFormat, D = window.JalonDom, A = window.JalonApi, R = window.JalonRender, P = window.JalonProfile;
  var api = A.api, ApiError = A.ApiError, serverWords = A.serverWords, detailFr = A.detailFr, errorFr = A.errorFr;
  var el = D.el, clear = D.clear, show = D.show;
  var TOKEN_KEY = "jalon.token", ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

  var state = { token: null, who: null, suggestion: null, decided: false, personView: null, inputs: null, reexam: null };
  var $ = function (id) { return document.getElementById(id); };
  var labels = JSON.parse($("jalon-labels").textContent);
  var NEED_LABELS = Object.fromEntries(labels.needs);
  var TIER_LABELS = Object.fromEntries(labels.tiers);
  var VIEW_LABELS = Object.fromEntries(labels.person_views);

  var EXAMPLE = JSON.parse($("jalon-example").textContent);
  var pct = F.pct, dateFr = F.dateFr;

  function needLabel(code) { return NEED_LABELS[code] || code || "—"; }
  function tierLabel(code) { return code ? code + " — " + (TIER_LABELS[code] || "") : "—"; }
  function viewLabel(code) { return code ? (VIEW_LABELS[code] || code) : "non recueilli"; }

  function announce(text) {
    var s = $("status");
    s.textContent = "";
    window.setTimeout(function () { s.textContent = text; }, 50);
  }

  function handleAuthLoss(err) {
    if (err instanceof ApiError && err.status === 401) {
      signOut("Jeton refusé ou session expirée\u202f: reconnectez-vous.");
      return true;
    }
    return false;
  }

  // ------------------------------------------------------------------ sign in

  function signedIn(who, token) {
    state.token = token;
    A.token = token;
    state.who = who;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("who-subject").textContent = who.subject;
    $("who-role").textContent = ({ advisor: "conseiller", auditor: "auditeur", admin: "administrateur" })[who.role] || who.role;
    $("who-model").textContent = who.model_version;
    show($("who"), true);
    show($("signin"), false);
    show($("workspace"), true);
    $("token").value = "";
    $("profile-title").focus();
    announce("Connecté en tant que " + who.subject + ".");
    api("POST", "model_inputs", {}).then(function (spec) { state.inputs = spec; P.applyModelInputs(spec); }, function () { /* keep the schema's defaults */ });
    document.dispatchEvent(new CustomEvent("jalon:signedin"));
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    A.token = null;
    state.who = null;
    withdrawSuggestion(false);
    // Nobody is signed in: the banner names nobody (the last advisor's name is erased, not just hidden).
    ["who-subject", "who-role", "who-model"].forEach(function (id) { $(id).textContent = ""; });
    show($("who"), false);
    show($("workspace"), false);
    show($("signin"), true);
    var e = $("signin-error");
    e.textContent = message || "";
    show(e, !!message);
    $("token").focus();
    announce(message || "Déconnecté.");
  }

  function onSignIn(event) {
    event.preventDefault();
    var token = $("token").value.trim();
    var e = $("signin-error");
    if (!token) {
      e.textContent = "Collez votre jeton d'accès.";
      show(e, true);
      $("token").setAttribute("aria-invalid", "true");
      $("token").focus();
      return;
    }
    $("token").removeAttribute("aria-invalid");
    $("signin-submit").disabled = true;
    api("POST", "whoami", {}, token).then(function (who) {
      show(e, false);
      signedIn(who, token);
    }, function (err) {
      e.textContent = err.status === 401 ? "Jeton refusé\u202f: vérifiez-le et réessayez." : errorFr(err);
      show(e, true);
      $("token").setAttribute("aria-invalid", "true");
      $("token").focus();
    }).then(function () { $("signin-submit").disabled = false; });
  }

  // ------------------------------------------------------------------ profile form

  var profileForm = $("profile-form");
  function inputs() { return Array.prototype.slice.call(profileForm.querySelectorAll("[data-kind]")); }
  function field(name) { return profileForm.querySelector('[data-kind][name="' + name + '"]'); }
  function labelOf(input) {
    var label = profileForm.querySelector('label[for="' + input.id + '"]');
    return label ? label.textContent.replace(/\s*\*\s*$/, "").trim() : input.name;
  }
  function setFieldError(input, message) {
    var p = $(input.id + "-error");
    input.setAttribute("aria-invalid", "true");
    if (p) { p.textContent = message; show(p, true); }
  }
  function clearFieldErrors() {
    inputs().concat([$("person-view")]).forEach(function (input) {
      input.removeAttribute("aria-invalid");
      var p = $(input.id + "-error");
      if (p) { p.textContent = ""; show(p, false); }
    });
    clear($("profile-error-list"));
    show($("profile-errors"), false);
    show($("profile-server-message"), false);
  }

  function showProfileErrors(items, serverMessage) {
    var list = $("profile-error-list");
    clear(list);
    items.forEach(function (item) {
      if (item.input) {
        setFieldError(item.input, item.message);
        var a = el("a", { href: "#" + item.input.id, text: labelOf(item.input) + "\u202f: " + item.message });
        a.addEventListener("click", function (ev) { ev.preventDefault(); item.input.focus(); });
        list.appendChild(el("li", {}, [a]));
      } else {
        list.appendChild(el("li", { text: item.message }));
      }
    });
    var sm = $("profile-server-message");
    sm.textContent = serverMessage ? "Réponse du service\u202f: " + serverMessage : "";
    show(sm, !!serverMessage);
    show($("profile-errors"), true);
    $("profile-errors").focus();
    announce("Le profil contient " + items.length + " erreur(s).");
  }

  /** The profile as the API expects it (typed JSON), plus the problems found. */
  function readProfile() {
    var profile = {}, problems = [];
    inputs().forEach(function (input) {
      var name = input.name, kind = input.dataset.kind, raw = (input.value || "").trim();
      if (raw === "") {
        if (input.required) problems.push({ input: input, message: "Ce champ est obligatoire." });
        else profile[name] = null;
        return;
      }
      if (kind === "boolean") {
        profile[name] = raw === "true";
      } else if (kind === "integer" || kind === "number") {
        var parsed = F.parseNumber(raw), n = parsed.value;
        if (parsed.error) { problems.push({ input: input, message: parsed.error }); return; }
        if (kind === "integer" && !Number.isInteger(n)) { problems.push({ input: input, message: "Nombre entier attendu." }); return; }
        var min = input.dataset.min, max = input.dataset.max;
        if ((min !== undefined && n < Number(min)) || (max !== undefined && n > Number(max))) {
          var unit = input.dataset.scale === "percent" ? " %" : "";
          problems.push({ input: input, message: "Valeur attendue entre " + F.num(Number(min)) + " et " + F.num(Number(max)) + unit + "." });
          return;
        }
        profile[name] = input.dataset.scale === "percent" ? Number((n / 100).toFixed(6)) : n;
      } else if (kind === "string") {
        if (!ID_RE.test(raw)) {
          problems.push({ input: input, message: "Lettres, chiffres, - et _ uniquement\u202f: un identifiant pseudonyme, jamais un nom." });
          return;
        }
        profile[name] = raw;
      } else {
        profile[name] = raw;
      }
    });
    if (!$("person-view").value) {
      problems.unshift({ input: $("person-view"), message: "Demandez d'abord à la personne quel est, selon elle, son besoin principal (ou « Ne sait pas »)." });
    }
    return { profile: profile, problems: problems };
  }

  function fillProfile(values) {
    clearFieldErrors();
    inputs().forEach(function (input) {
      var v = values[input.name];
      input.readOnly = false;
      if (v === null || v === undefined) input.value = "";
      else if (typeof v === "boolean") input.value = v ? "true" : "false";
      else if (input.dataset.number) P.writeNumber(input, v);
      else input.value = String(v);
    });
    P.applyReference();
  }

  /** The profile changed: the suggestion shown no longer describes it. */
  function withdrawSuggestion(notice) {
    if (!state.suggestion) return;
    state.suggestion = null;
    state.decided = false;
    state.reexam = null;
    resetDecisionForm();
    show($("decision-result"), false);
    show($("suggestion"), false);
    if (notice) {
      show($("stale-notice"), true);
      announce("Le profil a changé\u202f: la suggestion affichée a été retirée. Demandez une nouvelle suggestion.");
    }
  }

  function onProfileEdited(event) {
    if (event && event.target && (event.target.name === "agency_id" || event.target.name === "target_occupation_domain")) P.applyReference();
    withdrawSuggestion(true);
  }

  function onLoadExample() { fillProfile(EXAMPLE); withdrawSuggestion(true); announce("Exemple chargé dans le formulaire."); }
  function onClearForm() { fillProfile({}); $("person-view").value = ""; withdrawSuggestion(true); announce("Formulaire vidé."); }

  function onSubmitProfile(event) {
    event.preventDefault();
    clearFieldErrors();
    var read = readProfile();
    if (read.problems.length) { showProfileErrors(read.problems, ""); return; }
    P.showWarnings(P.plausibility(read.profile));
    var personView = $("person-view").value;
    var button = $("submit-profile");
    button.disabled = true;
    show($("profile-busy"), true);
    profileForm.setAttribute("aria-busy", "true");
    api("POST", "suggest", { profile: read.profile }).then(function (s) {
      show($("stale-notice"), false);
      state.personView = personView;
      renderSuggestion(s, { personView: personView });
    }, function (err) {
      if (handleAuthLoss(err)) return;
      var items = [];
      var body = Array.isArray(err.body) ? err.body[0] : err.body;
      if (body && Array.isArray(body.detail)) {
        body.detail.forEach(function (d) {
          var loc = Array.isArray(d.loc) ? d.loc : [];
          var input = field(loc[0] === "profile" ? loc[1] : loc[0]);
          items.push({ input: input, message: input ? detailFr(d) : (loc.join(".") + "\u202f: " + detailFr(d)) });
        });
      } else if (body && typeof body.error === "string") {
        // « profile.age, profile.disability_recognition: required by the served model ... »
        var names = body.error.match(/profiles?(?:\[\d+\])?\.([a-z0-9_]+)/g) || [];
        names.forEach(function (n) {
          var input = field(n.split(".").pop());
          if (input) items.push({ input: input, message: errorFr(err) });
        });
      }
      if (!items.length) items.push({ input: null, message: errorFr(err) });
      showProfileErrors(items, serverWords(err));
    }).then(function () {
      button.disabled = false;
      show($("profile-busy"), false);
      profileForm.removeAttribute("aria-busy");
    });
  }

  // ------------------------------------------------------------------ suggestion

  /** Show a suggestion: just computed (opts.personView) or reopened from the record (opts.history). */
  function renderSuggestion(s, opts) {
    opts = opts || {};
    state.suggestion = s;
    state.decided = !!(opts.history && opts.history.decisions && opts.history.decisions.length);
    state.reexam = null;
    var latest = state.decided ? opts.history.decisions[opts.history.decisions.length - 1] : null;
    if (opts.history) state.personView = latest ? latest.person_view_need : null;
    $("s-person").textContent = s.person_id;
    $("s-id").textContent = s.suggestion_id;
    $("s-model").textContent = s.model_version;
    $("s-date").textContent = "établie le " + F.dateTimeFr(s.created_at);
    $("s-person-view").textContent = viewLabel(state.personView);
    var note = $("reopened-note");
    note.textContent = opts.history ? "Suggestion rouverte depuis l'historique" + (latest ? "\u202f: la dernière décision est rappelée ci-dessous\u202f; une nouvelle décision sera une révision." : ".") : "";
    show(note, !!opts.history);

    var reasons = $("review-reasons");
    clear(reasons);
    (s.review_reasons || []).forEach(function (r) { reasons.appendChild(el("li", { text: r.message_fr, "data-code": r.code })); });
    show($("review"), !!s.needs_review);

    if (s.need) {
      $("need-label").textContent = s.need.label_fr;
      $("need-prob").textContent = pct(s.need.probability);
      R.needBars(s.need);
    } else {
      $("need-label").textContent = "Pas de suggestion de besoin (choisissez-le dans votre décision).";
      $("need-prob").textContent = "—";
      clear($("need-bars"));
    }
    if (s.employability) {
      $("tier-label").textContent = "Palier " + s.employability.tier + " — " + s.employability.tier_label_fr;
      $("tier-prob").textContent = pct(s.employability.probability);
      R.tierBand(s.employability);
    } else {
      $("tier-label").textContent = "Pas de suggestion de palier (choisissez-le dans votre décision).";
      $("tier-prob").textContent = "—";
      clear($("tier-band"));
    }
    var ex = s.explanations || {};
    R.factors("need-factors", "need-other", "need-tech", ex.need, "need");
    R.factors("emp-factors", "emp-other", "emp-tech", ex.employability, "employability");
    R.path(s);
    resetDecisionForm();
    show($("decision-result"), false);
    $("submit-decision").textContent = state.decided ? "Enregistrer une révision" : "Enregistrer la décision";
    show($("suggestion"), true);
    if (latest) renderDecision(latest, true);
    document.dispatchEvent(new CustomEvent("jalon:suggestion", { detail: { suggestion: s, history: opts.history || null } }));
    $("suggestion-title").focus();
    announce("Suggestion " + (opts.history ? "rouverte" : "reçue") + "\u202f: " + (s.need ? s.need.label_fr + ", confiance " + pct(s.need.probability) : "") +
      (s.employability ? "\u202f; palier " + s.employability.tier + " (" + pct(s.employability.probability) + ")" : "") +
      (s.needs_review ? ". À examiner avec attention." : ".") + " Aucune décision n'est présélectionnée.");
  }

  // ------------------------------------------------------------------ decision

  var decisionForm = $("decision-form");

  function chosenAction() {
    var checked = decisionForm.querySelector('input[name="action"]:checked');
    return checked ? checked.value : null;
  }

  function resetDecisionForm() {
    decisionForm.querySelectorAll('input[name="action"]').forEach(function (r) { r.checked = false; });
    $("override-need").value = "";
    $("override-tier").value = "";
    $("override-reason").value = "";
    $("override-reason").removeAttribute("aria-invalid");
    $("override-reason-code").value = "";
    show($("override-fields"), false);
    show($("override-preview"), false);
    clearDecisionErrors();
  }

  function clearDecisionErrors() {
    clear($("decision-error-list"));
    show($("decision-errors"), false);
    show($("decision-server-message"), false);
    ["override-reason", "override-reason-code", "override-need", "override-tier"].forEach(function (id) { $(id).removeAttribute("aria-invalid"); });
  }

  function showDecisionErrors(messages, serverMessage, focusId) {
    var list = $("decision-error-list");
    clear(list);
    messages.forEach(function (m) { list.appendChild(el("li", { text: m })); });
    var sm = $("decision-server-message");
    sm.textContent = serverMessage ? "Réponse du service\u202f: " + serverMessage : "";
    show(sm, !!serverMessage);
    show($("decision-errors"), true);
    announce("Décision non enregistrée\u202f: " + messages.join(" "));
    if (focusId) $(focusId).focus(); else $("decision-errors").focus();
  }

  function onActionChange() {
    show($("override-fields"), chosenAction() === "override");
    clearDecisionErrors();
  }

  /** The path an override would record, shown before it is recorded. */
  function previewOverride() {
    var s = state.suggestion, need = $("override-need").value, tier = $("override-tier").value;
    if (!s || (!need && !tier)) { show($("override-preview"), false); return; }
    var body = { suggestion_id: s.suggestion_id };
    if (need) body.need = need;
    if (tier) body.tier = tier;
    api("POST", "path_preview", body).then(function (rec) {
      if (state.suggestion !== s) return;
      R.recommendation($("override-preview-facts"), rec, null);
      show($("override-preview"), true);
    }, function (err) { if (!handleAuthLoss(err)) show($("override-preview"), false); });
  }

  function onSubmitDecision(event) {
    event.preventDefault();
    clearDecisionErrors();
    var s = state.suggestion;
    if (!s) return;
    var action = chosenAction();
    if (!action) {
      showDecisionErrors(["Choisissez « Confirmer » ou « Modifier »\u202f: aucun choix n'est fait à votre place."], "", "action-confirm");
      return;
    }
    var decision = { suggestion_id: s.suggestion_id, advisor_id: state.who.subject, action: action, revision: state.decided };
    if (state.personView) decision.person_view_need = state.personView;
    if (action === "override") {
      var need = $("override-need").value, tier = $("override-tier").value, reason = $("override-reason").value.trim();
      var reasonCode = $("override-reason-code").value;
      var problems = [], focusId = null;
      var suggestedNeed = s.need && s.need.code, suggestedTier = s.employability && s.employability.tier;
      if (!need && !tier) {
        problems.push("Choisissez un autre besoin et/ou un autre palier.");
        $("override-need").setAttribute("aria-invalid", "true");
        focusId = "override-need";
      } else if ((need || suggestedNeed) === suggestedNeed && (tier || suggestedTier) === suggestedTier) {
        problems.push("Le besoin et le palier choisis sont ceux de la suggestion\u202f: choisissez « Confirmer », ou changez l'un des deux.");
        focusId = "override-need";
      }
      if (!reasonCode) {
        problems.push("Choisissez un type de motif.");
        $("override-reason-code").setAttribute("aria-invalid", "true");
        focusId = focusId || "override-reason-code";
      }
      if (!reason) {
        problems.push("Un motif est obligatoire pour modifier la suggestion.");
        $("override-reason").setAttribute("aria-invalid", "true");
        focusId = focusId || "override-reason";
      }
      if (problems.length) { showDecisionErrors(problems, "", focusId); return; }
      if (need) decision.need = need;
      if (tier) decision.tier = tier;
      decision.reason_code = reasonCode;
      decision.reason = reason;
    }
    var button = $("submit-decision");
    button.disabled = true;
    api("POST", "decisions", decision).then(function (d) {
      if (state.suggestion !== s) return; // withdrawn meanwhile: the profile changed
      state.decided = true;
      renderDecision(d, false);
      resetDecisionForm();
      button.textContent = "Enregistrer une révision";
      window.JalonApp.loadRecent();
    }, function (err) {
      if (handleAuthLoss(err)) return;
      var messages = [];
      var body = Array.isArray(err.body) ? err.body[0] : err.body;
      if (body && Array.isArray(body.detail)) body.detail.forEach(function (d) { messages.push(detailFr(d)); });
      if (!messages.length) messages.push(errorFr(err));
      showDecisionErrors(messages, serverWords(err), null);
    }).then(function () { button.disabled = false; });
  }

  function renderDecision(d, quiet) {
    state.decision = d;
    var track = !d.recommendation && state.suggestion ? state.suggestion.track_proposal : null;
    R.decisionFacts($("decision-facts"), d, track);
    var s = state.suggestion;
    $("view-person").textContent = viewLabel(d.person_view_need);
    $("view-tool").textContent = s && s.need ? s.need.label_fr : "pas de suggestion";
    $("view-advisor").textContent = needLabel(d.final_need);
    show($("decision-result"), true);
    document.dispatchEvent(new CustomEvent("jalon:decision", { detail: d }));
    if (quiet) return;
    $("decision-result").focus();
    announce("Décision enregistrée\u202f: " + needLabel(d.final_need) + ", palier " + d.final_tier + ", jalon le " + dateFr(d.milestone_date) + ".");
  }

  // ------------------------------------------------------------------ wiring

  window.JalonApp = {
    state: state, api: api, ApiError: ApiError, $: $, el: el, clear: clear, show: show, announce: announce,
    errorFr: errorFr, serverWords: serverWords, handleAuthLoss: handleAuthLoss, needLabel: needLabel, tierLabel: tierLabel,
    viewLabel: viewLabel, renderSuggestion: renderSuggestion, renderDecision: renderDecision,
    withdrawSuggestion: withdrawSuggestion, API_BASE: A.API_BASE, dateTimeFr: F.dateTimeFr
  };

  $("signin-form").addEventListener("submit", onSignIn);
  $("signout").addEventListener("click", function () { signOut(""); });
  $("load-example").addEventListener("click", onLoadExample);
  $("clear-form").addEventListener("click", onClearForm);
  profileForm.addEventListener("submit", onSubmitProfile);
  // Any edit (typed, pasted, chosen) withdraws the shown suggestion.
  profileForm.addEventListener("input", onProfileEdited);
  profileForm.addEventListener("change", onProfileEdited);
  decisionForm.addEventListener("submit", onSubmitDecision);
  decisionForm.querySelectorAll('input[name="action"]').forEach(function (r) { r.addEventListener("change", onActionChange); });
  $("override-need").addEventListener("change", previewOverride);
  $("override-tier").addEventListener("change", previewOverride);
  P.applyReference();

  var saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    api("POST", "whoami", {}, saved).then(function (who) { signedIn(who, saved); }, function () {
      sessionStorage.removeItem(TOKEN_KEY);
    });
  }
  document.documentElement.classList.add("js");
})();
