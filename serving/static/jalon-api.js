/* Jalon advisor page: the JSON API and its errors in French (window.JalonApi).
 *
 * Paths are relative to the page (/ui/ -> ../suggest), so the page works behind a reverse
 * proxy that adds a prefix. The bearer token is set by jalon.js at sign-in (JalonApi.token).
 */
(function () {
  "use strict";

  var API_BASE = new URL("../", window.location.href);
  var JalonApi = { token: null, API_BASE: API_BASE };


  function ApiError(status, body) { this.status = status; this.body = body; }

  function api(method, path, body, token) {
    var headers = { "Authorization": "Bearer " + (token || JalonApi.token), "Accept": "application/json" };
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
    [/an advisor records decisions only as themself/i, "La décision doit être enregistrée au nom de la personne connectée."],
    [/needs a reason_code/i, "Choisissez un type de motif."],
    [/decisions store unavailable \(the database is read-only\)/i, "Le registre des décisions est en lecture seule\u202f: rien n'a été enregistré. Réessayez plus tard ou prévenez l'assistance."],
    [/decisions store unavailable \(the database disk is full\)/i, "Le disque du registre des décisions est plein\u202f: rien n'a été enregistré. Réessayez plus tard ou prévenez l'assistance."],
    [/decisions store unavailable/i, "Le registre des décisions est momentanément indisponible\u202f: rien n'a été enregistré. Réessayez dans quelques instants."],
    [/authentication is unavailable/i, "La vérification des jetons est momentanément indisponible. Réessayez dans quelques instants."],
    [/required by the served model/i, "Information obligatoire pour ce modèle\u202f: il ne l'a jamais vue manquer à l'apprentissage."],
    [/being re-examined/i, "Cette décision est contestée et en cours de réexamen par un autre conseiller."],
    [/already has an open contest/i, "Une contestation de cette décision est déjà en cours de réexamen."],
    [/nothing to contest/i, "Il n'y a pas encore de décision à contester."],
    [/another advisor than/i, "Le réexamen est fait par un autre conseiller que celui qui a pris la décision."],
    [/already re-examined/i, "Cette contestation a déjà été réexaminée."],
    [/CONTROL agenc/i, "L'outil n'est pas déployé dans cette agence\u202f: elle est agence témoin de l'expérimentation " +
      "MSA (tirée au sort pour servir de comparaison). Aucune suggestion n'y est faite\u202f; orientez la personne comme " +
      "d'habitude."],
    [/not in the MSA experiment's draw/i, "L'outil n'est pas déployé dans cette agence\u202f: elle ne fait pas partie " +
      "du tirage de l'expérimentation MSA. Vérifiez le code agence."]
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
      case 413: return "La demande est trop volumineuse.";
      case 415: return "Le service n'a pas compris la demande (format non pris en charge).";
      case 503: return "Le service est momentanément indisponible\u202f: rien n'a été enregistré. Réessayez dans quelques instants.";
      default: return "Le service a rencontré une erreur (" + err.status + "). Réessayez.";
    }
  }


  JalonApi.api = api;
  JalonApi.ApiError = ApiError;
  JalonApi.serverWords = serverWords;
  JalonApi.detailFr = detailFr;
  JalonApi.errorFr = errorFr;
  window.JalonApi = JalonApi;
})();
