/* Jalon advisor page: French formatting and parsing (window.JalonFormat), DOM helpers (window.JalonDom).
 *
 * One date format everywhere (« 1er avril 2027 », « 14 mars 2027 à 9 h 30 » when the time
 * matters), percentages with a narrow no-break space and « moins de 1 % » for tiny ones,
 * decimal commas, and a number parser that accepts what an advisor types in French
 * (« 2,5 », « 2.5 », « 8,5 % ») and refuses the rest instead of guessing.
 */
(function () {
  "use strict";

  var MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
    "septembre", "octobre", "novembre", "décembre"];
  var NNBSP = "\u202f";
  var MINUS = "\u2212";

  function num(x, digits) {
    var text = digits === undefined ? String(Number(Number(x).toFixed(6))) : Number(x).toFixed(digits);
    return text.replace("-", MINUS).replace(".", ",");
  }

  function pct(p) {
    if (p === null || p === undefined || isNaN(p)) return "—";
    var v = p * 100;
    if (v > 0 && v < 0.5) return "moins de 1" + NNBSP + "%";
    return Math.round(v) + NNBSP + "%";
  }

  function signed(x) { return (x >= 0 ? "+" : MINUS) + num(Math.abs(x), 2); }

  function dayText(d) {
    var day = d.getDate();
    return (day === 1 ? "1er" : String(day)) + " " + MONTHS[d.getMonth()] + " " + d.getFullYear();
  }

  /** « 1er avril 2027 » from an ISO date, or a timestamp in the browser's local time. */
  function dateFr(iso) {
    if (!iso) return "—";
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
    if (m) return dayText(new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    var d = new Date(iso);
    return isNaN(d) ? String(iso) : dayText(d);
  }

  /** « 14 mars 2027 à 9 h 30 » (a timestamp, local time). */
  function dateTimeFr(iso) {
    var d = new Date(iso);
    if (!iso || isNaN(d)) return dateFr(iso);
    var minutes = d.getMinutes();
    return dayText(d) + " à " + d.getHours() + " h " + (minutes < 10 ? "0" : "") + minutes;
  }

  /** Today as YYYY-MM-DD in local time (the value of an <input type=date>). */
  function todayIso() {
    var d = new Date();
    var mm = d.getMonth() + 1, dd = d.getDate();
    return d.getFullYear() + "-" + (mm < 10 ? "0" : "") + mm + "-" + (dd < 10 ? "0" : "") + dd;
  }

  /**
   * A number as typed in French: « 2,5 », « 2.5 », « 1 234,5 », « 8,5 % ». Returns
   * {value} or {error} (a French message); never guesses (« 2,5,3 » is an error).
   */
  function parseNumber(raw) {
    var text = String(raw).replace(/[\s\u00a0\u202f]/g, "").replace(/%$/, "").replace(MINUS, "-");
    if (!/^-?\d+([.,]\d+)?$/.test(text)) {
      return { error: "Nombre attendu (virgule décimale, par exemple 2,5)." };
    }
    return { value: Number(text.replace(",", ".")) };
  }

  /** How strongly a contribution weighs, in words (thresholds from core.thresholds). */
  function strengthWord(contribution, thresholds) {
    var a = Math.abs(contribution);
    if (a >= thresholds.strong) return "fort";
    if (a >= thresholds.moderate) return "modéré";
    return "faible";
  }

  /** « 1 an », « 6,5 ans » (French: plural from 2). */
  function plural(count, singular, pluralForm) {
    return num(count) + " " + (Math.abs(count) < 2 ? singular : (pluralForm || singular + "s"));
  }

  // -- DOM helpers (every value from the API is written with textContent, never innerHTML)

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
  function show(node, visible) { node.hidden = !visible; }
  window.JalonDom = { el: el, clear: clear, show: show };

  window.JalonFormat = {
    NNBSP: NNBSP,
    num: num,
    pct: pct,
    signed: signed,
    dateFr: dateFr,
    dateTimeFr: dateTimeFr,
    todayIso: todayIso,
    parseNumber: parseNumber,
    strengthWord: strengthWord,
    plural: plural
  };
})();
