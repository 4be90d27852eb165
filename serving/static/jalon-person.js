/* Jalon advisor page, the person's side: recent decisions (with the person, reopened on
 * demand), documents (report, contrat d'engagement), contests and their re-examination by
 * another advisor, and a document asked for through a link.
 *
 * Uses window.JalonApp (jalon.js). Documents are fetched with the advisor's token and shown
 * from a blob URL (a browser never sends the token by itself); the report and the contract
 * carry their own Content-Security-Policy.
 */
(function () {
  "use strict";

  var App = window.JalonApp, F = window.JalonFormat;
  var $ = App.$, el = App.el, clear = App.clear, show = App.show, announce = App.announce;
  var NAMES = { report: "le relevé d'explication", contract: "le contrat d'engagement", "contract-pdf": "le contrat d'engagement (PDF)" };

  function documentUrl(kind, id) {
    var path = kind === "report" ? "report/" : "contract/";
    return new URL(path + encodeURIComponent(id) + (kind === "contract-pdf" ? ".pdf" : ""), App.API_BASE);
  }

  /** Fetch a document with the token, then show it in a new window (or offer a link). */
  function openDocument(kind, id) {
    var pdf = kind === "contract-pdf";
    var win = pdf ? null : window.open("", "_blank"); // opened inside the click, so it is not blocked
    if (win) {
      try { win.document.title = "Chargement…"; win.document.body.textContent = "Chargement du document…"; } catch (e) { /* ignore */ }
    }
    var fallback = $("report-fallback");
    return fetch(documentUrl(kind, id), {
      headers: { "Authorization": "Bearer " + App.state.token, "Accept": pdf ? "application/pdf" : "text/html" },
      cache: "no-store", credentials: "omit"
    }).then(function (res) {
      if (!res.ok) {
        return res.text().then(function (text) {
          var data = text;
          try { data = JSON.parse(text); } catch (e) { /* keep text */ }
          throw new App.ApiError(res.status, data);
        });
      }
      return res.blob();
    }).then(function (blob) {
      var url = URL.createObjectURL(pdf ? blob : new Blob([blob], { type: "text/html;charset=utf-8" }));
      if (win && !win.closed) {
        win.location.href = url;
        announce("Document ouvert dans une nouvelle fenêtre.");
      } else {
        clear(fallback);
        var link = el("a", { href: url, target: "_blank", rel: "noopener", text: "Ouvrir " + NAMES[kind] });
        if (pdf) link.setAttribute("download", "contrat-engagement-" + id.slice(0, 8) + ".pdf");
        fallback.appendChild(link);
        show(fallback, true);
        link.focus();
        announce((pdf ? "Contrat d'engagement prêt\u202f: " : "") + "lien « Ouvrir " + NAMES[kind] + " » ci-dessous.");
      }
      window.setTimeout(function () { URL.revokeObjectURL(url); }, 120000);
    }).catch(function (err) {
      if (win && !win.closed) win.close();
      if (err instanceof App.ApiError && App.handleAuthLoss(err)) return;
      var message = "Le document n'a pas pu être ouvert\u202f: " + (err instanceof App.ApiError ? App.errorFr(err) : "erreur inattendue.");
      clear(fallback);
      fallback.textContent = message;
      show(fallback, true);
      announce(message);
    });
  }
  App.openDocument = openDocument;

  // ------------------------------------------------------------------ recent decisions

  function loadRecent() {
    return App.api("POST", "my_decisions", { limit: 10 }).then(renderRecent, function (err) {
      if (App.handleAuthLoss(err)) return;
      $("recent-empty").textContent = "Impossible de charger vos décisions\u202f: " + App.errorFr(err);
      show($("recent-empty"), true);
    });
  }

  function reopen(suggestionId) {
    return App.api("GET", "suggestions/" + encodeURIComponent(suggestionId)).then(function (h) {
      show($("stale-notice"), false);
      App.renderSuggestion(h.suggestion, { history: h });
      return h;
    }, function (err) {
      if (App.handleAuthLoss(err)) return;
      announce("La suggestion n'a pas pu être rouverte\u202f: " + App.errorFr(err));
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
      reportButton.addEventListener("click", function () { openDocument("report", d.suggestion_id); });
      body.appendChild(el("tr", { "data-decision-id": d.decision_id, "data-suggestion-id": d.suggestion_id }, [
        el("td", { text: F.dateTimeFr(d.created_at) }),
        el("td", {}, [el("strong", { className: "person", text: d.person_id || "—" })]),
        el("td", { text: (d.action === "confirm" ? "Confirmée" : "Modifiée") + (d.revision_of ? " (révision)" : "") +
          (d.on_behalf_of ? " — saisie par " + d.actor + " pour vous" : "") }),
        el("td", { text: App.needLabel(d.final_need) }),
        el("td", { text: App.tierLabel(d.final_tier) }),
        el("td", { text: F.dateFr(d.milestone_date) }),
        el("td", { className: "row-actions" }, [reopenButton, reportButton])
      ]));
    });
  }

  App.loadRecent = loadRecent;
  App.reopen = reopen;
  document.addEventListener("jalon:signedin", loadRecent);

  // ------------------------------------------------------------------ a document asked for by a link

  var requested = /^#document=(report|contract|contract-pdf):([A-Za-z0-9_-]{1,128})$/.exec(window.location.hash);
  document.addEventListener("jalon:signedin", function () {
    if (!requested) return;
    $("requested-document-text").textContent = "Le lien que vous avez suivi demande " + NAMES[requested[1]] + " (référence " + requested[2] + ").";
    show($("requested-document"), true);
  });
  document.addEventListener("jalon:signedin", loadContests);
  $("open-requested-document").addEventListener("click", function () {
    if (!requested) return;
    openDocument(requested[1], requested[2]);
    show($("requested-document"), false);
    history.replaceState(null, "", window.location.pathname);
    requested = null;
  });

  // ------------------------------------------------------------------ documents of the shown decision

  $("open-report").addEventListener("click", function () {
    if (App.state.suggestion) openDocument("report", App.state.suggestion.suggestion_id);
  });
  $("open-contract").addEventListener("click", function () {
    if (App.state.decision) openDocument("contract", App.state.decision.decision_id);
  });
  $("download-contract").addEventListener("click", function () {
    if (App.state.decision) openDocument("contract-pdf", App.state.decision.decision_id);
  });

  // ------------------------------------------------------------------ recording a contest

  document.addEventListener("jalon:suggestion", function (event) {
    var history = event.detail.history;
    show($("contest-box"), !!(history && history.decisions.length));
    show($("reexam-box"), false);
    show($("decision-form"), true);
    show($("contest-form"), true);
    $("contest-box").open = false;
    show($("contest-result"), false);
    $("contest-received").value = F.todayIso();
    $("contest-statement").value = "";
    var open = history && (history.contests || []).filter(function (c) { return c.status === "open"; })[0];
    if (open) contestRecorded(open);
  });
  // A decision shown while re-examining a contest is the re-examination's: no new contest from here.
  document.addEventListener("jalon:decision", function () { show($("contest-box"), !App.state.reexam); });

  function contestRecorded(c) {
    var box = $("contest-result");
    box.textContent = "Contestation reçue le " + F.dateFr(c.received_on) + " et enregistrée\u202f: la décision est en cours de réexamen " +
      "par un autre conseiller (" + (c.status === "open" ? "en attente" : c.status) + ").";
    show(box, true);
    show($("contest-form"), false);
    $("contest-box").open = true;
  }

  $("contest-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var s = App.state.suggestion, errors = $("contest-errors");
    show(errors, false);
    var received = $("contest-received").value, statement = $("contest-statement").value.trim();
    if (!s || !received || !statement) {
      errors.textContent = !statement ? "Écrivez les mots de la personne." : "Indiquez la date de réception.";
      show(errors, true);
      return;
    }
    App.api("POST", "contests", { suggestion_id: s.suggestion_id, received_on: received, statement: statement }).then(function (c) {
      contestRecorded(c);
      $("contest-result").focus();
      announce("Contestation enregistrée.");
      loadContests();
    }, function (err) {
      if (App.handleAuthLoss(err)) return;
      errors.textContent = App.errorFr(err);
      show(errors, true);
    });
  });

  // A contest received by letter or at the front desk: recorded from the report's reference.
  $("ref-contest-received").value = F.todayIso();
  $("reference-contest-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var errors = $("ref-contest-errors"), result = $("ref-contest-result");
    show(errors, false);
    show(result, false);
    var body = { suggestion_id: $("ref-contest-id").value.trim(), received_on: $("ref-contest-received").value,
      statement: $("ref-contest-statement").value.trim() };
    if (!body.suggestion_id || !body.received_on || !body.statement) {
      errors.textContent = "La référence, la date de réception et les mots de la personne sont obligatoires.";
      show(errors, true);
      return;
    }
    App.api("POST", "contests", body).then(function (c) {
      result.textContent = "Contestation enregistrée pour la personne " + c.person_id + "\u202f: elle sera réexaminée par un autre conseiller.";
      show(result, true);
      $("ref-contest-statement").value = "";
      announce(result.textContent);
      loadContests();
    }, function (err) {
      if (App.handleAuthLoss(err)) return;
      errors.textContent = App.errorFr(err);
      show(errors, true);
    });
  });

  // ------------------------------------------------------------------ contests to re-examine

  function loadContests() {
    if (!App.state.token) return;
    App.api("POST", "open_contests", {}).then(renderContests, function (err) { App.handleAuthLoss(err); });
  }

  function renderContests(rows) {
    var body = $("contests-body");
    clear(body);
    rows = Array.isArray(rows) ? rows : [];
    show($("contests-table"), rows.length > 0);
    show($("contests-empty"), rows.length === 0);
    rows.forEach(function (c) {
      var action = c.may_reexamine
        ? el("button", { type: "button", className: "button-small reexamine", text: "Réexaminer", "aria-label": "Réexaminer la contestation de " + c.person_id })
        : el("span", { className: "hint", text: "Réexamen par un autre conseiller" });
      if (c.may_reexamine) action.addEventListener("click", function () { startReexam(c); });
      body.appendChild(el("tr", { "data-contest-id": c.contest_id }, [
        el("td", { text: F.dateFr(c.received_on) }),
        el("td", { text: F.plural(c.age_days, "jour") }),
        el("td", {}, [el("strong", { text: c.person_id })]),
        el("td", { text: "«\u00a0" + c.statement + "\u00a0»" }),
        el("td", {}, [action])
      ]));
    });
  }

  function startReexam(contest) {
    App.reopen(contest.suggestion_id).then(function (h) {
      if (!h) return;
      App.state.reexam = contest;
      show($("contest-box"), false);
      show($("decision-form"), false); // the re-examiner answers the contest, not with an ordinary decision
      $("reexam-statement").textContent = "Contestation reçue le " + F.dateFr(contest.received_on) + "\u202f: «\u00a0" + contest.statement +
        "\u00a0». Décision contestée\u202f: celle de " + (h.decisions.length ? h.decisions[h.decisions.length - 1].advisor_id : "—") + ".";
      $("reexam-form").reset();
      show($("reexam-form"), true);
      show($("reexam-revision"), false);
      show($("reexam-result"), false);
      show($("reexam-errors"), false);
      show($("reexam-box"), true);
      $("reexam-title").scrollIntoView();
      $("reexam-maintain").focus();
    });
  }

  $("reexam-form").addEventListener("change", function () {
    show($("reexam-revision"), $("reexam-revise").checked);
  });

  $("reexam-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var contest = App.state.reexam, errors = $("reexam-errors");
    show(errors, false);
    var chosen = document.querySelector('#reexam-form input[name="outcome"]:checked');
    var reason = $("reexam-reason").value.trim();
    var problems = [];
    if (!chosen) problems.push("Choisissez « Maintenir » ou « Réviser ».");
    if (!reason) problems.push("Une réponse motivée est obligatoire\u202f: elle figure sur le relevé de la personne.");
    var body = { contest_id: contest && contest.contest_id, outcome: chosen && chosen.value, reason: reason };
    if (chosen && chosen.value === "revised") {
      if ($("reexam-need").value) body.need = $("reexam-need").value;
      if ($("reexam-tier").value) body.tier = $("reexam-tier").value;
      if (!body.need && !body.tier) problems.push("Pour réviser, choisissez un autre besoin et/ou un autre palier.");
    }
    if (!contest || problems.length) { errors.textContent = problems.join(" "); show(errors, true); return; }
    App.api("POST", "contest_outcomes", body).then(function (out) {
      var result = $("reexam-result");
      result.textContent = (out.contest.status === "revised" ? "Décision révisée" : "Décision maintenue") +
        "\u202f: la personne verra cette réponse sur son relevé.";
      show(result, true);
      show($("reexam-form"), false);
      if (out.decision) App.renderDecision(out.decision, true);
      App.state.reexam = null;
      show($("contest-box"), false);
      result.focus();
      announce(result.textContent);
      loadContests();
      App.loadRecent();
    }, function (err) {
      if (App.handleAuthLoss(err)) return;
      errors.textContent = App.errorFr(err) + " " + App.serverWords(err);
      show(errors, true);
    });
  });
})();
