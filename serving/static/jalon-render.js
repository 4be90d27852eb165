/* Jalon advisor page: drawing a suggestion (window.JalonRender): the need bars, the tier band,
 * the factors with their strength in words (numbers behind « Détails techniques ») and the path.
 *
 * Every value from the API is written with textContent. Reflow (WCAG 1.4.10): the bars and the
 * band's labels rearrange in a narrow box rather than collapse or get cut (jalon.css).
 */
(function () {
  "use strict";

  var F = window.JalonFormat, D = window.JalonDom;
  var el = D.el, clear = D.clear, show = D.show, pct = F.pct, dateFr = F.dateFr;
  var $ = function (id) { return document.getElementById(id); };
  var labels = JSON.parse($("jalon-labels").textContent);
  var TIER_LABELS = Object.fromEntries(labels.tiers);
  var SENSITIVE = labels.sensitive || [];
  var NEED_LABELS = Object.fromEntries(labels.needs);
  var REASON_LABELS = Object.fromEntries(labels.reasons || []);
  function tierLabel(code) { return code ? code + " — " + (TIER_LABELS[code] || "") : "—"; }
  function needLabel(code) { return NEED_LABELS[code] || code || "—"; }

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


  /** The agency's arm in the MSA experiment (nothing before the experiment's draw). */
  function renderArm(target, arm) {
    target.textContent = arm ? "Expérimentation MSA\u202f: " + arm.arm_label_fr + " (" +
      (arm.added_by_hand ? "agence ajoutée hors tirage, hors de l'analyse principale" : "agence tirée au sort") + ")" : "";
    show(target, !!arm);
  }

  /** Model 2's track proposal, shown instead of the model 1 path in a MODEL_2 agency. */
  function renderTrackProposal(target, p) {
    clear(target);
    if (!p) return;
    function row(term, value) {
      target.appendChild(el("dt", { text: term }));
      target.appendChild(el("dd", { text: value }));
    }
    row("Accompagnement proposé", p.track_label_fr);
    row("Accompagnement intensif", p.eligible_intensive ? "Éligible (dans la limite des places de l'agence)" : "Non éligible");
    if (p.priority_score !== null && p.priority_score !== undefined) row("Valeur de priorité", pct(p.priority_score));
    row("Règle", p.rule_fr);
    row("Détail", p.explanation_fr);
  }

  /** The arm, then the model 1 path or, in a MODEL_2 agency, the model 2 track proposal. */
  function renderPath(s) {
    var byId = function (id) { return document.getElementById(id); };
    renderArm(byId("s-arm"), s.experiment);
    var modelTwo = !!s.track_proposal;
    show(byId("recommendation-box"), !modelTwo);
    show(byId("track-box"), modelTwo);
    if (modelTwo) renderTrackProposal(byId("track-proposal"), s.track_proposal);
    else renderRecommendation(byId("recommendation"), s.recommendation, "rec-tech");
  }

  /** A recorded decision as a definition list: what was decided, why, by whom, and the path
   * (or, in a MODEL_2 agency, the ``track`` proposed). */
  function renderDecisionFacts(facts, d, track) {
    clear(facts);
    function row(term, value) { facts.appendChild(el("dt", { text: term })); facts.appendChild(el("dd", { text: value })); }
    row("Identifiant", d.decision_id);
    row("Décision", (d.action === "confirm" ? "Suggestion confirmée" : "Suggestion modifiée") + (d.revision_of ? " (révision)" : "") +
      " le " + F.dateTimeFr(d.created_at));
    row("Besoin retenu", needLabel(d.final_need));
    row("Palier retenu", tierLabel(d.final_tier));
    if (d.reason_code) row("Type de motif", REASON_LABELS[d.reason_code] || d.reason_code);
    if (d.reason) row("Motif", d.reason);
    if (d.on_behalf_of) row("Saisie par", d.actor + " (administration), pour " + d.on_behalf_of + "\u202f: " + (d.on_behalf_reason || ""));
    var rec = d.recommendation || {};
    row(track ? "Accompagnement proposé (modèle 2)" : "Parcours", track ? track.track_label_fr : [rec.parcours_label_fr, rec.modality_label_fr].filter(Boolean).join(", modalité ") || "—");
    if (rec.objective_fr) row("Objectif", rec.objective_fr);
    row("Jalon « corde de rappel »", dateFr(d.milestone_date || rec.milestone_date));
  }

  window.JalonRender = {
    decisionFacts: renderDecisionFacts,
    needBars: renderNeedBars,
    tierBand: renderTierBand,
    factors: renderFactors,
    recommendation: renderRecommendation,
    path: renderPath
  };
})();
