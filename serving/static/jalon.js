/* Jalon advisor page: sign in, profile -> suggestion, decision, recent decisions, report.
 *
 * Vanilla JS, no dependency. Every value coming from the API is written with textContent
 * (never innerHTML). The bearer token lives in sessionStorage only (this tab, until it is
 * closed). API paths are relative to the page (/ui/ -> ../suggest), so the page also
 * works behind a reverse proxy that adds a prefix.
 */
(function () {
  "use strict";

  var TOKEN_KEY = "jalon.token";
  var API_BASE = new URL("../", window.location.href);
  var ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
  var MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
    "septembre", "octobre", "novembre", "décembre"];
  var NBSP = "\u00a0";

  var state = { token: null, who: null, suggestion: null, decided: false };
  var $ = function (id) { return document.getElementById(id); };
  var labels = JSON.parse($("jalon-labels").textContent);
  var NEED_LABELS = Object.fromEntries(labels.needs);
  var TIER_LABELS = Object.fromEntries(labels.tiers);
  var REASON_LABELS = Object.fromEntries(labels.reasons);
  var EXAMPLE = JSON.parse($("jalon-example").textContent);

  // ------------------------------------------------------------------ formatting

  function pct(p) { return (p === null || p === undefined) ? "—" : Math.round(p * 100) + NBSP + "%"; }
  function num(x, digits) { return Number(x).toFixed(digits).replace(".", ","); }
  function signed(x) { return (x >= 0 ? "+" : "−") + num(Math.abs(x), 2); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function dateFr(iso) {
    if (!iso) return "—";
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
    if (!m) return iso;
    if (iso.length > 10) { // a timestamp: show it in the browser's local time
      var d = new Date(iso);
      if (!isNaN(d)) {
        return d.getDate() + " " + MONTHS[d.getMonth()] + " " + d.getFullYear() + " à " + pad(d.getHours()) + ":" + pad(d.getMinutes());
      }
    }
    var day = Number(m[3]);
    return (day === 1 ? "1er" : String(day)) + " " + MONTHS[Number(m[2]) - 1] + " " + m[1];
  }
  function needLabel(code) { return NEED_LABELS[code] || code || "—"; }
  function tierLabel(code) { return code ? code + " — " + (TIER_LABELS[code] || "") : "—"; }

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

  function ApiError(status, body) {
    this.status = status;
    this.body = body;
  }

  function api(method, path, body, token) {
    var headers = { "Authorization": "Bearer " + (token || state.token), "Accept": "application/json" };
    var init = { method: method, headers: headers, cache: "no-store", credentials: "omit" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(new URL(path, API_BASE), init).then(function (res) {
      return res.text().then(function (text) {
        var data = text;
        try { data = text ? JSON.parse(text) : null; } catch (e) { /* keep text */ }
        if (!res.ok) throw new ApiError(res.status, data);
        return data;
      });
    }, function () {
      throw new ApiError(0, null);
    });
  }

  /** The server's own words (error and detail messages), shown as they are. */
  function serverWords(err) {
    var body = Array.isArray(err.body) ? err.body[0] : err.body;
    if (body === null || body === undefined) return "";
    if (typeof body === "string") return body.slice(0, 500);
    var parts = [];
    if (body.error) parts.push(String(body.error));
    if (Array.isArray(body.detail)) {
      body.detail.forEach(function (d) {
        parts.push((Array.isArray(d.loc) ? d.loc.join(".") + " : " : "") + (d.msg || ""));
      });
    } else if (typeof body.detail === "string") {
      parts.push(body.detail);
    }
    return parts.join(" — ");
  }

  var KNOWN_MESSAGES = [
    [/an override needs a reason/i, "Un motif est obligatoire pour modifier la suggestion."],
    [/an override needs a need or a tier/i, "Pour modifier, choisissez un autre besoin et/ou un autre palier."],
    [/already has a decision/i, "Cette suggestion a déjà une décision : enregistrez une révision."],
    [/no such suggestion/i, "Cette suggestion est introuvable."],
    [/only their own/i, "Vous ne pouvez consulter ou décider que vos propres suggestions."],
    [/an advisor records decisions only as themself/i, "La décision doit être enregistrée au nom du conseiller connecté."],
    [/needs a reason_code/i, "Choisissez un type de motif."],
    [/decisions store unavailable \(the database is read-only\)/i, "Le registre des décisions est en lecture seule : rien n'a été enregistré. Réessayez plus tard ou prévenez l'assistance."],
    [/decisions store unavailable \(the database disk is full\)/i, "Le disque du registre des décisions est plein : rien n'a été enregistré. Réessayez plus tard ou prévenez l'assistance."],
    [/decisions store unavailable/i, "Le registre des décisions est momentanément indisponible : rien n'a été enregistré. Réessayez dans quelques instants."],
    [/authentication is unavailable/i, "La vérification des jetons est momentanément indisponible. Réessayez dans quelques instants."]
  ];

  /** A French message for one pydantic error item. */
  function detailFr(d) {
    var msg = String(d.msg || ""), type = String(d.type || ""), m;
    for (var i = 0; i < KNOWN_MESSAGES.length; i++) if (KNOWN_MESSAGES[i][0].test(msg)) return KNOWN_MESSAGES[i][1];
    if (type === "missing") return "Ce champ est obligatoire.";
    if ((m = /less than or equal to ([\d.]+)/.exec(msg))) return "Valeur trop grande : au plus " + m[1].replace(".", ",") + ".";
    if ((m = /greater than or equal to ([\d.]+)/.exec(msg))) return "Valeur trop petite : au moins " + m[1].replace(".", ",") + ".";
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
      case 401: return "Jeton refusé ou session expirée : reconnectez-vous.";
      case 403: return "Votre rôle ne permet pas cette action.";
      case 404: return "Introuvable.";
      case 409: return "Conflit : la demande a déjà été traitée.";
      case 413: return "La demande est trop volumineuse.";
      case 415: return "Le service n'a pas compris la demande (format non pris en charge).";
      case 503: return "Le service est momentanément indisponible : rien n'a été enregistré. Réessayez dans quelques instants.";
      default: return "Le service a rencontré une erreur (" + err.status + "). Réessayez.";
    }
  }

  function handleAuthLoss(err) {
    if (err instanceof ApiError && err.status === 401) {
      signOut("Jeton refusé ou session expirée : reconnectez-vous.");
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
    loadRecent();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    state.who = null;
    state.suggestion = null;
    show($("who"), false);
    show($("workspace"), false);
    show($("suggestion"), false);
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
      e.textContent = err.status === 401 ? "Jeton refusé : vérifiez-le et réessayez." : errorFr(err);
      show(e, true);
      $("token").setAttribute("aria-invalid", "true");
      $("token").focus();
    }).then(function () { $("signin-submit").disabled = false; });
  }

  // ------------------------------------------------------------------ profile form

  var profileForm = $("profile-form");
  function inputs() { return Array.prototype.slice.call(profileForm.querySelectorAll("[data-kind]")); }
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
    inputs().forEach(function (input) {
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
        var a = el("a", { href: "#" + item.input.id, text: labelOf(item.input) + " : " + item.message });
        a.addEventListener("click", function (ev) { ev.preventDefault(); item.input.focus(); });
        list.appendChild(el("li", {}, [a]));
      } else {
        list.appendChild(el("li", { text: item.message }));
      }
    });
    var sm = $("profile-server-message");
    sm.textContent = serverMessage ? "Réponse du service : " + serverMessage : "";
    show(sm, !!serverMessage);
    show($("profile-errors"), true);
    $("profile-errors").focus();
    announce("Le profil contient " + items.length + " erreur(s).");
  }

  function fmtBound(x) { return String(x).replace(".", ","); }

  /** The profile as the API expects it (typed JSON), plus the problems found. */
  function readProfile() {
    var profile = {}, problems = [];
    inputs().forEach(function (input) {
      var name = input.name, kind = input.dataset.kind, raw = (input.value || "").trim();
      if (input.type === "number" && input.validity && input.validity.badInput) {
        problems.push({ input: input, message: "Nombre attendu." });
        return;
      }
      if (raw === "") {
        if (input.required) problems.push({ input: input, message: "Ce champ est obligatoire." });
        else profile[name] = null;
        return;
      }
      if (kind === "boolean") {
        profile[name] = raw === "true";
      } else if (kind === "integer" || kind === "number") {
        var n = Number(raw.replace(",", "."));
        if (!isFinite(n)) { problems.push({ input: input, message: "Nombre attendu." }); return; }
        if (kind === "integer" && !Number.isInteger(n)) { problems.push({ input: input, message: "Nombre entier attendu." }); return; }
        var min = input.getAttribute("min"), max = input.getAttribute("max");
        if ((min !== null && n < Number(min)) || (max !== null && n > Number(max))) {
          problems.push({ input: input, message: "Valeur attendue entre " + fmtBound(min) + " et " + fmtBound(max) + "." });
          return;
        }
        profile[name] = n;
      } else if (kind === "string") {
        if (!ID_RE.test(raw)) {
          problems.push({ input: input, message: "Lettres, chiffres, - et _ uniquement : un identifiant pseudonyme, jamais un nom." });
          return;
        }
        profile[name] = raw;
      } else {
        profile[name] = raw;
      }
    });
    return { profile: profile, problems: problems };
  }

  function fillProfile(values) {
    clearFieldErrors();
    inputs().forEach(function (input) {
      var v = values[input.name];
      if (v === null || v === undefined) input.value = "";
      else if (typeof v === "boolean") input.value = v ? "true" : "false";
      else input.value = String(v);
    });
  }

  function onLoadExample() {
    fillProfile(EXAMPLE);
    announce("Exemple chargé dans le formulaire.");
  }

  function onClearForm() {
    fillProfile({});
    announce("Formulaire vidé.");
  }

  function onSubmitProfile(event) {
    event.preventDefault();
    clearFieldErrors();
    var read = readProfile();
    if (read.problems.length) { showProfileErrors(read.problems, ""); return; }
    var button = $("submit-profile");
    button.disabled = true;
    show($("profile-busy"), true);
    profileForm.setAttribute("aria-busy", "true");
    api("POST", "suggest", { profile: read.profile }).then(function (s) {
      renderSuggestion(s);
    }, function (err) {
      if (handleAuthLoss(err)) return;
      var items = [];
      var body = Array.isArray(err.body) ? err.body[0] : err.body;
      if (body && Array.isArray(body.detail)) {
        body.detail.forEach(function (d) {
          var loc = Array.isArray(d.loc) ? d.loc : [];
          var name = loc[0] === "profile" ? loc[1] : loc[0];
          var input = name ? profileForm.querySelector('[data-kind][name="' + name + '"]') : null;
          items.push({ input: input, message: input ? detailFr(d) : (loc.join(".") + " : " + detailFr(d)) });
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

  function renderTierBand(emp) {
    var band = $("tier-band");
    clear(band);
    var b = emp.bands && emp.bands.B, a = emp.bands && emp.bands.A;
    if (typeof a !== "number" || typeof b !== "number") { show(band, false); return; }
    show(band, true);
    [["C", 0, b], ["B", b, a], ["A", a, 1]].forEach(function (seg) {
      var node = el("div", { className: "seg" + (seg[0] === emp.tier ? " current" : "") }, [
        el("span", { text: seg[0] + " · " + (TIER_LABELS[seg[0]] || "") })
      ]);
      node.style.width = ((seg[2] - seg[1]) * 100).toFixed(2) + "%";
      band.appendChild(node);
    });
    var marker = el("div", { className: "marker", text: pct(emp.probability) });
    marker.style.left = (Math.max(0, Math.min(1, emp.probability)) * 100).toFixed(2) + "%";
    band.appendChild(marker);
    var legend = "Paliers : C en dessous de " + pct(b) + ", B de " + pct(b) + " à " + pct(a) + ", A à partir de " + pct(a) + ".";
    band.setAttribute("aria-label", "Palier " + tierLabel(emp.tier) + " : probabilité " + pct(emp.probability) + ". " + legend);
    $("tier-band-legend").textContent = legend;
  }

  function renderFactors(listId, otherId, explanation, kind) {
    var list = $(listId);
    clear(list);
    var other = $(otherId);
    other.textContent = "";
    if (!explanation || !Array.isArray(explanation.factors) || !explanation.factors.length) {
      list.appendChild(el("li", { text: "Pas d'explication disponible." }));
      return;
    }
    var words = kind === "need" ? ["rapproche", "éloigne"] : ["augmente", "réduit"];
    var maxAbs = explanation.factors.reduce(function (m, f) { return Math.max(m, Math.abs(f.contribution)); }, 0) || 1;
    explanation.factors.forEach(function (f) {
      var towards = f.direction === "towards";
      var dir = towards ? "towards" : "against";
      var bar = el("span", { className: "bar " + dir });
      bar.style.width = (Math.abs(f.contribution) / maxAbs * 50).toFixed(1) + "%";
      list.appendChild(el("li", { className: "factor " + dir, "data-field": f.field, "data-direction": dir }, [
        el("p", { className: "sentence", text: f.sentence_fr }),
        el("div", { className: "row" }, [
          el("span", { className: "axis", "aria-hidden": "true" }, [bar]),
          el("span", { className: "value " + dir, text: signed(f.contribution) + " " + (towards ? "▲ " + words[0] : "▼ " + words[1]) })
        ])
      ]));
    });
    if (typeof explanation.other_contribution === "number") {
      other.textContent = "Toutes les autres informations, cumulées : " + signed(explanation.other_contribution) + ".";
    }
  }

  function renderRecommendation(target, rec) {
    clear(target);
    if (!rec) {
      target.appendChild(el("dt", { text: "Parcours" }));
      target.appendChild(el("dd", { text: "Aucune recommandation disponible." }));
      return;
    }
    function row(term, value) {
      target.appendChild(el("dt", { text: term }));
      target.appendChild(typeof value === "string" ? el("dd", { text: value }) : el("dd", {}, [value]));
    }
    row("Parcours", rec.parcours_label_fr || rec.parcours || "—");
    row("Modalité", rec.modality_label_fr || rec.modality || "—");
    row("Objectif prioritaire", rec.objective_fr || "—");
    var offers = el("ul", {});
    (rec.offers || []).forEach(function (o) { offers.appendChild(el("li", { text: o.name_fr || o.id || String(o) })); });
    row("Offres de service", (rec.offers || []).length ? offers : "—");
    row("Durée", rec.duration_months ? rec.duration_months + " mois" : "—");
    row("Jalon « corde de rappel »", dateFr(rec.milestone_date));
    if (rec.explanation_fr) row("Détail", rec.explanation_fr);
  }

  function renderSuggestion(s) {
    state.suggestion = s;
    state.decided = false;
    $("s-person").textContent = s.person_id;
    $("s-id").textContent = s.suggestion_id;
    $("s-model").textContent = s.model_version;
    $("s-date").textContent = "établie le " + dateFr(s.created_at);

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
    renderFactors("need-factors", "need-other", ex.need, "need");
    renderFactors("emp-factors", "emp-other", ex.employability, "employability");
    renderRecommendation($("recommendation"), s.recommendation);
    resetDecisionForm();
    show($("decision-result"), false);
    $("submit-decision").textContent = "Enregistrer la décision";
    show($("suggestion"), true);
    $("suggestion-title").focus();
    announce("Suggestion reçue : " + (s.need ? s.need.label_fr + ", confiance " + pct(s.need.probability) : "") +
      (s.employability ? " ; palier " + s.employability.tier + " (" + pct(s.employability.probability) + ")" : "") +
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
    sm.textContent = serverMessage ? "Réponse du service : " + serverMessage : "";
    show(sm, !!serverMessage);
    show($("decision-errors"), true);
    announce("Décision non enregistrée : " + messages.join(" "));
    if (focusId) $(focusId).focus(); else $("decision-errors").focus();
  }

  function onActionChange() {
    show($("override-fields"), chosenAction() === "override");
    clearDecisionErrors();
  }

  function onSubmitDecision(event) {
    event.preventDefault();
    clearDecisionErrors();
    var s = state.suggestion;
    if (!s) return;
    var action = chosenAction();
    if (!action) {
      showDecisionErrors(["Choisissez « Confirmer » ou « Modifier » : aucun choix n'est fait à votre place."], "", "action-confirm");
      return;
    }
    var decision = { suggestion_id: s.suggestion_id, advisor_id: state.who.subject, action: action, revision: state.decided };
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
        problems.push("Le besoin et le palier choisis sont ceux de la suggestion : choisissez « Confirmer », ou changez l'un des deux.");
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
      state.decided = true;
      renderDecision(d);
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

  function renderDecision(d) {
    var facts = $("decision-facts");
    clear(facts);
    function row(term, value) {
      facts.appendChild(el("dt", { text: term }));
      facts.appendChild(el("dd", { text: value }));
    }
    row("Identifiant", d.decision_id);
    row("Décision", (d.action === "confirm" ? "Suggestion confirmée" : "Suggestion modifiée") + (d.revision_of ? " (révision)" : ""));
    row("Besoin retenu", needLabel(d.final_need));
    row("Palier retenu", tierLabel(d.final_tier));
    if (d.reason_code) row("Type de motif", REASON_LABELS[d.reason_code] || d.reason_code);
    if (d.reason) row("Motif", d.reason);
    if (d.on_behalf_of) row("Saisie par", d.actor + " (administration), pour " + d.on_behalf_of + " : " + (d.on_behalf_reason || ""));
    var rec = d.recommendation || {};
    row("Parcours", [rec.parcours_label_fr, rec.modality_label_fr].filter(Boolean).join(", modalité ") || "—");
    if (rec.objective_fr) row("Objectif", rec.objective_fr);
    row("Jalon « corde de rappel »", dateFr(d.milestone_date || rec.milestone_date));
    show($("decision-result"), true);
    $("decision-result").focus();
    announce("Décision enregistrée : " + needLabel(d.final_need) + ", palier " + d.final_tier + ", jalon le " + dateFr(d.milestone_date) + ".");
  }

  // ------------------------------------------------------------------ recent decisions

  function loadRecent() {
    return api("POST", "my_decisions", { limit: 10 }).then(renderRecent, function (err) {
      if (handleAuthLoss(err)) return;
      $("recent-empty").textContent = "Impossible de charger vos décisions : " + errorFr(err);
      show($("recent-empty"), true);
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
      var button = el("button", { type: "button", className: "button-secondary button-small",
        "aria-label": "Ouvrir le relevé de la suggestion " + d.suggestion_id.slice(0, 8), text: "Relevé" });
      button.addEventListener("click", function () { openReport(d.suggestion_id); });
      body.appendChild(el("tr", { "data-decision-id": d.decision_id }, [
        el("td", { text: dateFr(d.created_at) }),
        el("td", { text: (d.action === "confirm" ? "Confirmée" : "Modifiée") + (d.revision_of ? " (révision)" : "") +
          (d.on_behalf_of ? " — saisie par " + d.actor + " pour vous" : "") }),
        el("td", { text: needLabel(d.final_need) }),
        el("td", { text: tierLabel(d.final_tier) }),
        el("td", { text: dateFr(d.milestone_date) }),
        el("td", {}, [el("code", { title: d.suggestion_id, text: d.suggestion_id.slice(0, 8) })]),
        el("td", {}, [button])
      ]));
    });
  }

  // ------------------------------------------------------------------ the person's report

  /** Fetch the report with the token, then show it in a new window (a blob URL). */
  function openReport(suggestionId) {
    var win = window.open("", "_blank"); // opened now, inside the click, so it is not blocked
    if (win) {
      try { win.document.title = "Relevé — chargement…"; win.document.body.textContent = "Chargement du relevé…"; } catch (e) { /* ignore */ }
    }
    var fallback = $("report-fallback");
    fetch(new URL("report/" + encodeURIComponent(suggestionId), API_BASE), {
      headers: { "Authorization": "Bearer " + state.token, "Accept": "text/html" }, cache: "no-store", credentials: "omit"
    }).then(function (res) {
      return res.text().then(function (text) {
        if (!res.ok) {
          var data = text;
          try { data = JSON.parse(text); } catch (e) { /* keep text */ }
          throw new ApiError(res.status, data);
        }
        return text;
      });
    }).then(function (html) {
      var url = URL.createObjectURL(new Blob([html], { type: "text/html;charset=utf-8" }));
      if (win && !win.closed) {
        win.location.href = url;
        announce("Relevé ouvert dans une nouvelle fenêtre.");
      } else {
        clear(fallback);
        fallback.appendChild(el("a", { href: url, target: "_blank", rel: "noopener", text: "Ouvrir le relevé de la personne" }));
        show(fallback, true);
        fallback.querySelector("a").focus();
      }
      window.setTimeout(function () { URL.revokeObjectURL(url); }, 120000);
    }).catch(function (err) {
      if (win && !win.closed) win.close();
      if (err instanceof ApiError && handleAuthLoss(err)) return;
      var message = "Le relevé n'a pas pu être ouvert : " + (err instanceof ApiError ? errorFr(err) : "erreur inattendue.");
      clear(fallback);
      fallback.textContent = message;
      show(fallback, true);
      announce(message);
    });
  }

  // ------------------------------------------------------------------ wiring

  $("signin-form").addEventListener("submit", onSignIn);
  $("signout").addEventListener("click", function () { signOut(""); });
  $("load-example").addEventListener("click", onLoadExample);
  $("clear-form").addEventListener("click", onClearForm);
  profileForm.addEventListener("submit", onSubmitProfile);
  decisionForm.addEventListener("submit", onSubmitDecision);
  decisionForm.querySelectorAll('input[name="action"]').forEach(function (r) { r.addEventListener("change", onActionChange); });
  $("open-report").addEventListener("click", function () { if (state.suggestion) openReport(state.suggestion.suggestion_id); });

  var saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    api("POST", "whoami", {}, saved).then(function (who) { signedIn(who, saved); }, function () {
      sessionStorage.removeItem(TOKEN_KEY);
    });
  }
  document.documentElement.classList.add("js");
})();
