// The login state in the header of every page, and the log-in page's message and `next`.
// Progressive: without this script the header keeps its log-in link (or the member's state the
// app's gate filled in on a gated page) and the form still posts.
// Talks to the API of CONTRACT17 section 3: GET /api/members/me -> {"member": null | {name…}}.
(function () {
  "use strict";

  var TEXT = {
    ja: {
      greeting: function (name) { return name + " さん"; },
      error: "メールアドレスまたはパスワードが正しくありません。",
      rate_limited: "ログインの試行が多すぎます。しばらく待ってからもう一度お試しください。",
      expired: "ログインの有効期限が切れました。もう一度ログインしてください。",
    },
    en: {
      greeting: function (name) { return name; },
      error: "The e-mail address or the password is not correct.",
      rate_limited: "Too many attempts. Please wait a moment and try again.",
      expired: "Your session has expired. Please log in again.",
    },
  };

  function safeNext(value) {
    // Same-site paths only: starts with one "/", no backslash, no scheme, no control chars.
    return typeof value === "string" && /^\/(?!\/)/.test(value) && !/[\\\u0000-\u001f\u007f]/.test(value);
  }

  function showMember(box, member, text) {
    var login = box.querySelector(".member-nav__login");
    var logout = box.querySelector(".member-nav__logout");
    var name = box.querySelector("[data-kizuna-member-name]");
    // The server may have filled the member's state already (a gated page, my page: the same
    // markup, api/members/header.py): setting the same values again changes nothing on screen.
    box.setAttribute("data-state", member ? "member" : "anonymous");
    if (name) name.textContent = member ? text.greeting(member.name || member.email || "") : "";
    if (login) login.hidden = !!member;
    if (logout) logout.hidden = !member;
  }

  function fillLoginPage(text) {
    var form = document.querySelector("form[data-kizuna-login]");
    if (!form) return;
    var query = new URLSearchParams(window.location.search);
    var next = form.querySelector('input[name="next"]');
    if (next && !next.value && safeNext(query.get("next"))) next.value = query.get("next");
    var error = query.get("error");
    var box = document.querySelector("[data-kizuna-login-error]");
    if (error && box && !document.querySelector(".kizuna-login-message")) {
      box.textContent = text[error] || text.error;
      box.hidden = false;
    }
  }

  function start() {
    var box = document.querySelector("[data-kizuna-member]");
    var lang = (box && box.getAttribute("data-lang")) || document.documentElement.lang;
    var text = TEXT[lang] || TEXT.ja;
    fillLoginPage(text);
    if (!box || !window.fetch) return;
    var api = box.getAttribute("data-api") || "/api/members";
    function refresh() {
      fetch(api + "/me", { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { member: null }; })
        .then(function (body) { showMember(box, body && body.member, text); })
        .catch(function () { /* the API is not there (a static preview): keep the log-in link */ });
    }
    refresh();
    // member-forms.js fires this when the member's name or address changed (my page).
    document.addEventListener("kizuna:member-changed", refresh);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
