/* Jalon advisor page: sign in, the person's own view, profile -> suggestion, decision, recent decisions.
 *
 * Vanilla JS, no dependency. Every value coming from the API is written with textContent
 * (never innerHTML). The bearer token lives in sessionStorage only (this tab, until it is
 * closed). API paths are relative to the page (/ui/ -> ../suggest), so the page also
 * works behind a reverse proxy that adds a prefix. French formatting: jalon-format.js;
 * contract, contests and re-examination: jalon-person.js (through window.JalonApp).
 *
 * A shown suggestion belongs to the profile it was computed from: any change to the form
 * (a field, the person's own view, « Charger un exemple », « Vider ») withdraws it and its
 * decision form, so a decision can never be recorded for another profile than the one shown.
 */
(function () {
  "use strict";

  var F = window.JalonFormat;
  var TOKEN_KEY = "jalon.token";
  var API_BASE = new URL("../", window.location.href);
  var ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

  var state = { token: null, who: null, suggestion: null, decided: false, personView: null, inputs: null, reexam: null };
  var $ = function (id) { return document.getElementById(id); };
  var labels = JSON.parse($("jalon-labels").textContent);
  var REFERENCE = JSON.parse($("jalon-reference").textContent);
  var NEED_LABELS = Object.fromEntries(labels.needs);
  var TIER_LABELS = Object.fromEntries(labels.tiers);
  var VIEW_LABELS = Object.fromEntries(labels.person_views);
  var SENSITIVE = labels.sensitive || [];
  var EXAMPLE = JSON.parse($("jalon-example").textContent);
  var pct = F.pct, dateFr = F.dateFr;

  function needLabel(code) { return NEED_LABELS[code] || code || "—"; }
  function tierLabel(code) { return code ? code + " — " + (TIER_LABELS[code] || "") : "—"; }
  function viewLabel(code) { return code ? (VIEW_LABELS[code] || code) : "non recueilli"; }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function announce(text) {
    var s = $("status");
    s.textContent = "";
    window.setTimeout(function () { s.textContent = text; }, 50);
  }
  function show(node, visible) { node.hidden = !visible; }

  // ------------------------------------------------------------------ API

  function ApiError(status, body) { this.status = status; this.body = body; }

  function api(method, path, body, token) {
    var headers = { "Authorization": "Bearer " + (token || state.token), "Accept": "application/json" };
    var init = { method: method, headers: headers, cache: "no-store", credentials: "omit" };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(new URL(path, API_BASE), init).then(function (res) {
      return res.text().then(function (text) {
        var data = text;
        try { data = text ? JSON.parse(text) : null; } catch (e) { /* keep text */ }
        if (!res.ok) throw new ApiError(res.status, data);
        return data;
      });
    }, function () { throw new ApiError(0, null); });
  }

  /** The server's own words (error and detail messages), shown as they are. */
  function serverWords(err) {
    var body = Array.isArray(err.body) ? err.body[0] : err.body;
    if (body === null || body === undefined) return "";
    if (typeof body === "string") return body.slice(0, 500);
    var parts = [];
    if (body.error) parts.push(String(body.error));
    if (Array.isArray(body.detail)) {
      body.detail.forEach(function (d) { parts.push((Array.isArray(d.loc) ? d.loc.join(".") + "\u202f: " : "") + (d.msg || "")); });
    } else if (typeof body.detail === "string") parts.push(body.detail);
    return parts.join(" — ");
  }

  var KNOWN_MESSAGES = [
    [/an override needs a reason/i, "Un motif est obligatoire pour modifier la suggestion."],
    [/an override needs a need or a tier/i, "Pour modifier, choisissez un autre besoin et/ou un autre palier."],
    [/already has a decision/i, "Cette suggestion a déjà une décision\u202f: enregistrez une révision."],
    [/no such suggestion/i, "Cette suggestion est introuvable."],
    [/only their own/i, "Vous ne pouvez consulter ou décider que vos propres suggestions."],
    [/is not the signed-in advisor/i, "La décision doit être enregistrée au nom du conseiller connecté."],
    [/required by the served model/i, "Information obligatoire pour ce modèle\u202f: il ne l'a jamais vue manquer à l'apprentissage."],
    [/being re-examined/i, "Cette décision est contestée et en cours de réexamen par un autre conseiller."],
    [/already has an open contest/i, "Une contestation de cette décision est déjà en cours de réexamen."],
    [/nothing to contest/i, "Il n'y a pas encore de décision à contester."],
    [/another advisor than/i, "Le réexamen est fait par un autre conseiller que celui qui a pris la décision."],
    [/already re-examined/i, "Cette contestation a déjà été réexaminée."]
  ];

  /** A French message for one pydantic error item. */
  function detailFr(d) {
    var msg = String(d.msg || ""), type = String(d.type || ""), m;
    for (var i = 0; i < KNOWN_MESSAGES.length; i++) if (KNOWN_MESSAGES[i][0].test(msg)) return KNOWN_MESSAGES[i][1];
    if (type === "missing") return "Ce champ est obligatoire.";
    if ((m = /less than or equal to ([\d.]+)/.exec(msg))) return "Valeur trop grande\u202f: au plus " + m[1].replace(".", ",") + ".";
    if ((m = /greater than or equal to ([\d.]+)/.exec(msg))) return "Valeur trop petite\u202f: au moins " + m[1].replace(".", ",") + ".";
    if (/should match pattern/.test(msg)) return "Lettres, chiffres, - et _ uniquement (identifiant pseudonyme).";
    if (/valid integer/.test(msg)) return "Nombre entier attendu.";
    if (/valid number/.test(msg)) return "Nombre attendu.";
    if (/valid boolean/.test(msg)) return "Oui ou non attendu.";
    if (type === "literal_error" || /Input should be/.test(msg)) return "Valeur non reconnue.";
    if (type === "extra_forbidden") return "Champ inconnu du service.";
    return "Valeur refusée par le service.";
  }

  /** A French sentence for an API error (whole request). */
  function errorFr(err) {
    var words = serverWords(err);
    for (var i = 0; i < KNOWN_MESSAGES.length; i++) if (KNOWN_MESSAGES[i][0].test(words)) return KNOWN_MESSAGES[i][1];
    switch (err.status) {
      case 0: return "Le service ne répond pas. Vérifiez la connexion puis réessayez.";
      case 400: case 422: return "Le service a refusé la demande.";
      case 401: return "Jeton refusé ou session expirée\u202f: reconnectez-vous.";
      case 403: return "Votre rôle ne permet pas cette action.";
      case 404: return "Introuvable.";
      case 409: return "Conflit\u202f: la demande a déjà été traitée.";
      default: return "Le service a rencontré une erreur (" + err.status + "). Réessayez.";
    }
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
    api("POST", "model_inputs", {}).then(applyModelInputs, function () { /* keep the schema's defaults */ });
    loadRecent();
    document.dispatchEvent(new CustomEvent("jalon:signedin"));
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
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

  /** Which inputs the served model needs: « Non renseigné » only where training saw the input missing. */
  function applyModelInputs(spec) {
    state.inputs = spec;
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

  function fillProfile(values) {
    clearFieldErrors();
    inputs().forEach(function (input) {
      var v = values[input.name];
      input.readOnly = false;
      if (v === null || v === undefined) input.value = "";
      else if (typeof v === "boolean") input.value = v ? "true" : "false";
      else if (input.dataset.number) writeNumber(input, v);
      else input.value = String(v);
    });
    applyReference();
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
    if (event && event.target && (event.target.name === "agency_id" || event.target.name === "target_occupation_domain")) applyReference();
    withdrawSuggestion(true);
  }

  function onLoadExample() { fillProfile(EXAMPLE); withdrawSuggestion(true); announce("Exemple chargé dans le formulaire."); }
  function onClearForm() { fillProfile({}); $("person-view").value = ""; withdrawSuggestion(true); announce("Formulaire vidé."); }

  function onSubmitProfile(event) {
    event.preventDefault();
    clearFieldErrors();
    var read = readProfile();
    if (read.problems.length) { showProfileErrors(read.problems, ""); return; }
    showWarnings(plausibility(read.profile));
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

  function renderNeedBars(need) {
    var list = $("need-bars");
    clear(list);
    var rows = (need.distribution || []).slice().sort(function (a, b) { return b.probability - a.probability; });
    rows.forEach(function (row) {
      var suggested = row.code === need.code;
      var fill = el("div", { className: "fill" });
      fill.style.width = Math.max(0, Math.min(100, row.probability * 100)).toFixed(1) + "%";
      list.appendChild(el("li", { className: suggested ? "suggested" : "", "data-code": row.code }, [
        el("span", { className: "name", text: row.label_fr + (suggested ? " (suggéré)" : "") }),
        el("span", { className: "track", "aria-hidden": "true" }, [fill]),
        el("span", { className: "pct", text: pct(row.probability) })
      ]));
    });
  }

  /** The band shows where the probability falls; labels sit under it (wrapping, never cut). */
  function renderTierBand(emp) {
    var band = $("tier-band");
    clear(band);
    var b = emp.bands && emp.bands.B, a = emp.bands && emp.bands.A;
    if (typeof a !== "number" || typeof b !== "number") { show(band, false); return; }
    show(band, true);
    var track = el("div", { className: "track" }), legend = el("div", { className: "labels" });
    [["C", 0, b], ["B", b, a], ["A", a, 1]].forEach(function (seg) {
      var width = ((seg[2] - seg[1]) * 100).toFixed(2) + "%";
      var current = seg[0] === emp.tier ? " current" : "";
      var part = el("div", { className: "seg" + current, text: seg[0] });
      part.style.width = width;
      track.appendChild(part);
      var label = el("div", { className: "seg-label" + current }, [el("strong", { text: seg[0] }), " · " + (TIER_LABELS[seg[0]] || "")]);
      label.style.width = width;
      legend.appendChild(label);
    });
    var marker = el("div", { className: "marker", text: pct(emp.probability) });
    var at = Math.max(0, Math.min(1, emp.probability));
    marker.style.left = (at * 100).toFixed(2) + "%";
    // Near an end, the label is aligned inside the band instead of centred over the edge.
    if (at < 0.08) marker.style.transform = "translateX(-0.2rem)";
    else if (at > 0.92) marker.style.transform = "translateX(calc(-100% + 0.2rem))";
    var tick = el("div", { className: "tick", "aria-hidden": "true" });
    tick.style.left = (at * 100).toFixed(2) + "%";
    band.appendChild(marker);
    band.appendChild(tick);
    band.appendChild(track);
    band.appendChild(legend);
    var text = "Paliers\u202f: C en dessous de " + pct(b) + ", B de " + pct(b) + " à " + pct(a) + ", A à partir de " + pct(a) + ".";
    band.setAttribute("aria-label", "Palier " + tierLabel(emp.tier) + "\u202f: probabilité " + pct(emp.probability) + ". " + text);
    $("tier-band-legend").textContent = text;
  }

  function effectWords(f, kind) {
    var towards = f.direction === "towards";
    if (kind === "need") return towards ? "▲ rapproche du besoin" : "▼ éloigne du besoin";
    if (SENSITIVE.indexOf(f.field) >= 0) {
      // A sensitive input is framed by what it leads to: more (or less) support, not « moins de chances ».
      return towards ? "▲ moins d'accompagnement suggéré" : "▼ plus d'accompagnement suggéré";
    }
    return towards ? "▲ rapproche de l'emploi" : "▼ éloigne de l'emploi";
  }

  /** What the factor is (its value); the effect is said next to its bar, in words. */
  function sentenceOf(f, kind) {
    var shown = f.field === "age" && f.value !== null ? f.display_value + " ans" : f.display_value;
    if (kind !== "need" && SENSITIVE.indexOf(f.field) >= 0) {
      return f.label_fr + "\u202f: " + shown + " (donnée sensible) — en moyenne, l'accès à l'emploi y est " +
        (f.direction === "towards" ? "plus rapide" : "plus long") + "\u202f; l'outil en tient compte.";
    }
    var cut = f.sentence_fr.lastIndexOf("\u202f: ");
    return cut > 0 ? f.sentence_fr.slice(0, cut) : f.sentence_fr;
  }

  function renderTech(detailsId, rows) {
    var body = $(detailsId).querySelector(".tech-body");
    clear(body);
    var dl = el("dl", { className: "facts" });
    rows.forEach(function (r) { dl.appendChild(el("dt", { text: r[0] })); dl.appendChild(el("dd", { text: r[1] })); });
    body.appendChild(dl);
  }

  function renderFactors(listId, otherId, techId, explanation, kind) {
    var list = $(listId);
    clear(list);
    $(otherId).textContent = "";
    if (!explanation || !Array.isArray(explanation.factors) || !explanation.factors.length) {
      list.appendChild(el("li", { text: "Pas d'explication disponible." }));
      renderTech(techId, []);
      return;
    }
    var maxAbs = explanation.factors.reduce(function (m, f) { return Math.max(m, Math.abs(f.contribution)); }, 0) || 1;
    explanation.factors.forEach(function (f) {
      var dir = f.direction === "towards" ? "towards" : "against";
      var bar = el("span", { className: "bar " + dir });
      bar.style.width = (Math.abs(f.contribution) / maxAbs * 50).toFixed(1) + "%";
      list.appendChild(el("li", { className: "factor " + dir, "data-field": f.field, "data-direction": dir }, [
        el("p", { className: "sentence", text: sentenceOf(f, kind) }),
        el("div", { className: "row" }, [
          el("span", { className: "axis", "aria-hidden": "true" }, [bar]),
          el("span", { className: "value " + dir, text: F.strengthWord(f.contribution, labels.strength) + " " + effectWords(f, kind) })
        ])
      ]));
    });
    if (typeof explanation.other_contribution === "number") {
      $(otherId).textContent = "Toutes les autres informations, cumulées\u202f: effet " + F.strengthWord(explanation.other_contribution, labels.strength) + ".";
    }
    renderTech(techId, explanation.factors.map(function (f) { return [f.label_fr, F.signed(f.contribution)]; }).concat([
      ["Autres informations cumulées", F.signed(explanation.other_contribution)],
      ["Valeur de base", F.signed(explanation.base_value)],
      ["Score brut", F.signed(explanation.raw_score)],
      ["Unités", "contributions SHAP, en log-odds (" + explanation.units + ")"]
    ]));
  }

  /** The catalogue's explanation without its English rule id (kept in the technical details). */
  function pathDetailFr(rec) {
    var text = String(rec.explanation_fr || "").replace(/^Suggestion de la règle « [^»]+ » \(catalogue [^)]+\) : /, "");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function renderRecommendation(target, rec, techId) {
    clear(target);
    if (!rec) {
      target.appendChild(el("dt", { text: "Parcours" }));
      target.appendChild(el("dd", { text: "Aucune recommandation disponible." }));
      return;
    }
    function row(term, value) {
      target.appendChild(typeof term === "string" ? el("dt", { text: term }) : term);
      target.appendChild(typeof value === "string" ? el("dd", { text: value }) : el("dd", {}, [value]));
    }
    row("Parcours", rec.parcours_label_fr || rec.parcours || "—");
    row("Modalité", rec.modality_label_fr || rec.modality || "—");
    row("Objectif prioritaire", rec.objective_fr || "—");
    var offers = el("ul", {});
    (rec.offers || []).forEach(function (o) { offers.appendChild(el("li", { text: o.name_fr || o.id || String(o) })); });
    row("Offres de service", (rec.offers || []).length ? offers : "—");
    row("Durée", rec.duration_months ? F.plural(rec.duration_months, "mois", "mois") : "—");
    row(el("dt", {}, [el("dfn", { text: "Jalon « corde de rappel »" })]), el("span", {}, [
      el("strong", { text: dateFr(rec.milestone_date) }),
      el("span", { className: "hint block", text: "Date à laquelle la situation et les besoins sont réexaminés avec la personne, au plus tard\u202f; l'accompagnement peut alors changer." })
    ]));
    if (rec.explanation_fr) row("Pourquoi ce parcours", pathDetailFr(rec));
    if (techId) renderTech(techId, [["Règle du catalogue", rec.rule_id], ["Version du catalogue", rec.catalogue_version],
      ["Compléments", (rec.complement_ids || []).join(", ") || "aucun"]]);
  }

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
      renderNeedBars(s.need);
    } else {
      $("need-label").textContent = "Pas de suggestion de besoin (choisissez-le dans votre décision).";
      $("need-prob").textContent = "—";
      clear($("need-bars"));
    }
    if (s.employability) {
      $("tier-label").textContent = "Palier " + s.employability.tier + " — " + s.employability.tier_label_fr;
      $("tier-prob").textContent = pct(s.employability.probability);
      renderTierBand(s.employability);
    } else {
      $("tier-label").textContent = "Pas de suggestion de palier (choisissez-le dans votre décision).";
      $("tier-prob").textContent = "—";
      clear($("tier-band"));
    }
    var ex = s.explanations || {};
    renderFactors("need-factors", "need-other", "need-tech", ex.need, "need");
    renderFactors("emp-factors", "emp-other", "emp-tech", ex.employability, "employability");
    renderRecommendation($("recommendation"), s.recommendation, "rec-tech");
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
    show($("override-fields"), false);
    show($("override-preview"), false);
    clearDecisionErrors();
  }

  function clearDecisionErrors() {
    clear($("decision-error-list"));
    show($("decision-errors"), false);
    show($("decision-server-message"), false);
    ["override-reason", "override-need", "override-tier"].forEach(function (id) { $(id).removeAttribute("aria-invalid"); });
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
      renderRecommendation($("override-preview-facts"), rec, null);
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
      if (!reason) {
        problems.push("Un motif est obligatoire pour modifier la suggestion.");
        $("override-reason").setAttribute("aria-invalid", "true");
        focusId = focusId || "override-reason";
      }
      if (problems.length) { showDecisionErrors(problems, "", focusId); return; }
      if (need) decision.need = need;
      if (tier) decision.tier = tier;
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
      loadRecent();
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
    var facts = $("decision-facts");
    clear(facts);
    function row(term, value) { facts.appendChild(el("dt", { text: term })); facts.appendChild(el("dd", { text: value })); }
    row("Identifiant", d.decision_id);
    row("Décision", (d.action === "confirm" ? "Suggestion confirmée" : "Suggestion modifiée") + (d.revision_of ? " (révision)" : "") +
      " le " + F.dateTimeFr(d.created_at));
    row("Besoin retenu", needLabel(d.final_need));
    row("Palier retenu", tierLabel(d.final_tier));
    if (d.reason) row("Motif", d.reason);
    var rec = d.recommendation || {};
    row("Parcours", [rec.parcours_label_fr, rec.modality_label_fr].filter(Boolean).join(", modalité ") || "—");
    if (rec.objective_fr) row("Objectif", rec.objective_fr);
    row("Jalon « corde de rappel »", dateFr(d.milestone_date || rec.milestone_date));
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

  // ------------------------------------------------------------------ recent decisions

  function loadRecent() {
    return api("POST", "my_decisions", { limit: 10 }).then(renderRecent, function (err) {
      if (handleAuthLoss(err)) return;
      $("recent-empty").textContent = "Impossible de charger vos décisions\u202f: " + errorFr(err);
      show($("recent-empty"), true);
    });
  }

  function reopen(suggestionId) {
    return api("GET", "suggestions/" + encodeURIComponent(suggestionId)).then(function (h) {
      show($("stale-notice"), false);
      renderSuggestion(h.suggestion, { history: h });
      return h;
    }, function (err) {
      if (handleAuthLoss(err)) return;
      announce("La suggestion n'a pas pu être rouverte\u202f: " + errorFr(err));
    });
  }

  function renderRecent(rows) {
    var body = $("recent-body");
    clear(body);
    rows = Array.isArray(rows) ? rows : [];
    show($("recent-table"), rows.length > 0);
    $("recent-empty").textContent = "Aucune décision enregistrée pour l'instant.";
    show($("recent-empty"), rows.length === 0);
    rows.forEach(function (d) {
      var who = d.person_id || d.suggestion_id.slice(0, 8);
      var reopenButton = el("button", { type: "button", className: "button-secondary button-small reopen",
        "aria-label": "Rouvrir la suggestion de " + who, text: "Rouvrir" });
      reopenButton.addEventListener("click", function () { reopen(d.suggestion_id); });
      var reportButton = el("button", { type: "button", className: "button-secondary button-small",
        "aria-label": "Ouvrir le relevé de " + who, text: "Relevé" });
      reportButton.addEventListener("click", function () { window.JalonApp.openDocument("report", d.suggestion_id); });
      body.appendChild(el("tr", { "data-decision-id": d.decision_id, "data-suggestion-id": d.suggestion_id }, [
        el("td", { text: F.dateTimeFr(d.created_at) }),
        el("td", {}, [el("strong", { className: "person", text: d.person_id || "—" })]),
        el("td", { text: (d.action === "confirm" ? "Confirmée" : "Modifiée") + (d.revision_of ? " (révision)" : "") }),
        el("td", { text: needLabel(d.final_need) }),
        el("td", { text: tierLabel(d.final_tier) }),
        el("td", { text: dateFr(d.milestone_date) }),
        el("td", { className: "row-actions" }, [reopenButton, reportButton])
      ]));
    });
  }

  // ------------------------------------------------------------------ wiring

  window.JalonApp = {
    state: state, api: api, ApiError: ApiError, $: $, el: el, clear: clear, show: show, announce: announce,
    errorFr: errorFr, serverWords: serverWords, handleAuthLoss: handleAuthLoss, needLabel: needLabel, tierLabel: tierLabel,
    viewLabel: viewLabel, renderSuggestion: renderSuggestion, renderDecision: renderDecision, loadRecent: loadRecent,
    reopen: reopen, withdrawSuggestion: withdrawSuggestion, API_BASE: API_BASE
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
  applyReference();

  var saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    api("POST", "whoami", {}, saved).then(function (who) { signedIn(who, saved); }, function () {
      sessionStorage.removeItem(TOKEN_KEY);
    });
  }
  document.documentElement.classList.add("js");
})();
