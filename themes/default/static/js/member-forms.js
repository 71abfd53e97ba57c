// The member pages (register, confirm, my page, e-mail, password, reset, withdraw; the log-in
// page's `?done=` messages). Progressive: every form is a plain POST that the server answers
// with a 303 back to the page (`?done=<what>` or `?error=<code>&fields=<field>:<code>,…`) and
// every text is in the page, hidden, keyed like that query. This script
//   - reveals the messages the query names and shows the form of the page's step,
//   - sends the forms as JSON instead (no reload) and shows the answer in place, with the
//     errors next to their fields,
//   - shows the site's password rules (GET /api/members/password-rules) by every new password,
//   - builds the registration fields (GET /api/members/registration) and my page (profile,
//     sessions) from the API — unless the server filled the page already
//     (`data-kizuna-filled`: api/members/mypage.py, formpages.py), whose markup is the same
//     as this one's.
// See themes/default/README.md ("Member pages").
(function () {
  "use strict";

  var page = document.querySelector("[data-kizuna-page]");
  if (!page || !window.fetch || !window.URLSearchParams) return;
  var name = page.getAttribute("data-kizuna-page");
  var lang = page.getAttribute("data-lang") === "en" ? "en" : "ja";
  var api = page.getAttribute("data-api") || "/api/members";
  var loginUrl = page.getAttribute("data-login") || "/login/";

  var WORDS = {
    ja: { optional: "（任意）", yes: "はい", choose: "選んでください", unknown: "不明な端末",
          never: "—", sending: "送信中…", loggedInAs: "ログイン中: " },
    en: { optional: "(optional)", yes: "Yes", choose: "Choose…", unknown: "Unknown device",
          never: "—", sending: "Sending…", loggedInAs: "Logged in as " },
  };
  var words = WORDS[lang];

  // What a form's success means: the `done` it shows, or a page it goes on to.
  var DONE = {
    register: "sent", reset: "sent", email: "sent", "email-confirm": "changed",
    password: "changed", profile: "saved", withdraw: "withdrawn",
  };

  function all(selector, scope) {
    return Array.prototype.slice.call((scope || document).querySelectorAll(selector));
  }

  function attr(value) {
    return String(value).replace(/["\\]/g, "\\$&");
  }

  // ---------------------------------------------------------------- messages and steps

  function parseFields(text) {
    var out = [];
    (text || "").split(",").forEach(function (pair) {
      var at = pair.indexOf(":");
      if (at > 0) out.push([pair.slice(0, at), pair.slice(at + 1)]);
    });
    return out;
  }

  function stateOfQuery() {
    var query = new URLSearchParams(window.location.search);
    return {
      done: query.get("done"),
      error: query.get("error"),
      step: query.get("step"),
      fields: parseFields(query.get("fields")),
    };
  }

  function fieldError(field, code) {
    var exact = page.querySelector('[data-kizuna-field-error="' + attr(field + ":" + code) + '"]');
    if (exact) return exact;
    var box = page.querySelector('[data-kizuna-errors-for="' + attr(field) + '"]');
    if (!box) return null;
    // A field built by this script: borrow the words of the same code from another field.
    var like = page.querySelector('[data-kizuna-field-error$=":' + attr(code) + '"]') ||
      page.querySelector('[data-kizuna-field-error$=":*"]');
    var made = document.createElement("span");
    made.className = "member-field__error";
    made.setAttribute("data-kizuna-field-error", field + ":" + code);
    made.textContent = like ? like.textContent : code;
    made.hidden = true;
    box.appendChild(made);
    return made;
  }

  function show(state) {
    all("[data-kizuna-message]").forEach(function (el) { el.hidden = true; });
    all("[data-kizuna-field-error]").forEach(function (el) { el.hidden = true; });
    all("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    var first = null;
    if (state.done) {
      first = page.querySelector('[data-kizuna-message="done=' + attr(state.done) + '"]');
    }
    if (state.error) {
      first = page.querySelector('[data-kizuna-message="error=' + attr(state.error) + '"]') ||
        page.querySelector('[data-kizuna-message="error=*"]');
    }
    if (first) first.hidden = false;
    var focus = null;
    state.fields.forEach(function (pair) {
      var el = fieldError(pair[0], pair[1]) || fieldError(pair[0], "*");
      if (el) el.hidden = false;
      var input = page.querySelector('[name="' + attr(pair[0]) + '"]');
      if (input) {
        input.setAttribute("aria-invalid", "true");
        focus = focus || input;
      }
    });
    showSteps(state);
    return { message: first, input: focus };
  }

  // Which form of the page is shown: after a success none (the message says what next); with
  // `step=ready` (a mailed link's page) the "ready" one; otherwise the "start" one, or, on a
  // page with only a "ready" form (confirm), that form unless an error came back.
  function showSteps(state) {
    var forms = all("[data-kizuna-step]");
    var hasStart = forms.some(function (f) { return f.getAttribute("data-kizuna-step") === "start"; });
    forms.forEach(function (form) {
      var step = form.getAttribute("data-kizuna-step");
      var visible;
      if (state.done) visible = false;
      else if (state.step === "ready") visible = step === "ready";
      else if (hasStart) visible = step === "start";
      else visible = !state.error;
      form.hidden = !visible;
    });
  }

  function setQuery(state) {
    if (!window.history || !window.history.replaceState) return;
    var query = new URLSearchParams();
    if (state.done) query.set("done", state.done);
    if (state.error) query.set("error", state.error);
    if (state.step && !state.done) query.set("step", state.step);
    var text = query.toString();
    window.history.replaceState(null, "", window.location.pathname + (text ? "?" + text : ""));
    keepQuery();
  }

  function keepQuery() {
    all("[data-kizuna-keep-query]").forEach(function (link) {
      var base = link.getAttribute("href").split("?")[0];
      link.setAttribute("href", base + window.location.search);
    });
  }

  // ---------------------------------------------------------------- talking to the API

  function request(method, path, body) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(api + path, options).then(function (response) {
      if (response.status === 204) return { ok: true, status: 204, body: null };
      return response.json().then(
        function (data) { return { ok: response.ok, status: response.status, body: data }; },
        function () { return { ok: response.ok, status: response.status, body: null }; }
      );
    });
  }

  function problemState(answer) {
    var body = answer.body || {};
    var code = body.code || (answer.status === 429 ? "rate_limited" : "error");
    var fields = (body.errors || []).filter(function (e) { return e && e.field; })
      .map(function (e) { return [String(e.field).replace(/^body\./, ""), e.code || "invalid"]; });
    return { error: code, fields: fields };
  }

  function valuesOf(form) {
    var out = {};
    all("input, select, textarea", form).forEach(function (input) {
      // A plain form's defaults (a boolean's hidden "false", a multi-select's empty value).
      if (!input.name || input.disabled || input.hasAttribute("data-kizuna-form-default")) return;
      if (input.type === "checkbox") {
        if (input.hasAttribute("data-kizuna-multi")) {
          out[input.name] = out[input.name] || [];
          if (input.checked) out[input.name].push(input.value);
        } else {
          out[input.name] = input.checked;
        }
        return;
      }
      if (input.type === "number") {
        out[input.name] = input.value === "" ? null : Number(input.value);
        return;
      }
      if (input.hasAttribute("data-kizuna-nullable") && input.value === "") {
        out[input.name] = null;
        return;
      }
      out[input.name] = input.value;
    });
    return out;
  }

  function after(formName, answer, form) {
    var body = answer.body || {};
    if (formName === "session-end") {
      var item = form.closest("[data-session]");
      if (item && item.querySelector("[data-kizuna-session-current]:not([hidden])")) {
        window.location.assign(loginUrl + "?done=logged_out");
        return null;
      }
      if (item) item.parentNode.removeChild(item);
      return { done: "session_ended" };
    }
    if (formName === "confirm") {
      if (body.status === "approval") return { done: "approval" };
      window.location.assign(loginUrl + "?done=confirmed");
      return null;
    }
    if (formName === "reset-complete") {
      window.location.assign(loginUrl + "?done=reset");
      return null;
    }
    if (formName === "sessions-end") {
      window.location.assign(loginUrl + "?done=logged_out");
      return null;
    }
    if (formName === "profile") renderProfile(body);
    if (formName === "profile" || formName === "email-confirm") {
      document.dispatchEvent(new CustomEvent("kizuna:member-changed"));  // the header's name
    }
    return { done: DONE[formName] || "saved" };
  }

  function submit(form, event) {
    event.preventDefault();
    var formName = form.getAttribute("data-kizuna-form");
    var button = form.querySelector("[type=submit]");
    var path = form.getAttribute("action").replace(/^.*\/api\/members/, "");
    if (button) button.disabled = true;
    form.setAttribute("aria-busy", "true");
    request("POST", path, valuesOf(form))
      .then(function (answer) {
        var state = answer.ok ? after(formName, answer, form) : problemState(answer);
        if (!state) return;
        state.fields = state.fields || [];
        var current = stateOfQuery();
        if (!answer.ok && current.step === "ready") state.step = "ready";
        all('input[type="password"]', form).forEach(function (input) { input.value = ""; });
        var shown = show(state);
        setQuery(state);
        if (answer.ok && formName === "withdraw") refreshHeader();
        if (shown.input) shown.input.focus();
        else if (shown.message) {
          shown.message.setAttribute("tabindex", "-1");
          shown.message.focus();
        }
      })
      .catch(function () {
        show({ error: "error", fields: [] });
      })
      .then(function () {
        if (button) button.disabled = false;
        form.removeAttribute("aria-busy");
      });
  }

  function refreshHeader() {
    var box = document.querySelector("[data-kizuna-member]");
    if (!box) return;
    box.setAttribute("data-state", "anonymous");
    all(".member-nav__logout", box).forEach(function (el) { el.hidden = true; });
    all(".member-nav__login", box).forEach(function (el) { el.hidden = false; });
  }

  // ---------------------------------------------------------------- password rules

  function showRules() {
    var lists = all("[data-kizuna-password-rules]");
    // Filled by the server with the site's rules (api/members/formpages.py): nothing to fetch.
    if (!lists.length || page.hasAttribute("data-kizuna-filled")) return;
    request("GET", "/password-rules").then(function (answer) {
      if (!answer.ok || !answer.body) return;
      renderRules(answer.body);
    }).catch(function () { /* keep the always-on rules of the page */ });
  }

  function renderRules(rules) {
    all("[data-kizuna-password-rules]").forEach(function (list) {
      list.textContent = "";
      (rules.rules || []).forEach(function (rule) {
        var item = document.createElement("li");
        item.textContent = rule[lang] || rule.ja || rule.code;
        item.setAttribute("data-code", rule.code || "");
        list.appendChild(item);
      });
    });
    if (rules.min_length) {
      all('input[autocomplete="new-password"]').forEach(function (input) {
        input.setAttribute("minlength", String(rules.min_length));
      });
    }
  }

  function showPasswordToggles() {
    all("[data-kizuna-show-password]").forEach(function (box) {
      var input = document.getElementById(box.getAttribute("data-kizuna-show-password"));
      if (!input) return;
      box.parentNode.hidden = false;
      box.addEventListener("change", function () {
        input.type = box.checked ? "text" : "password";
      });
    });
  }

  // ---------------------------------------------------------------- fields from the API

  var INPUT_TYPES = {
    email: "email", phone: "tel", url: "url", integer: "number", decimal: "number",
    date: "date", datetime: "datetime-local", postal_code: "text",
  };
  var AUTOCOMPLETE = { name: "name", phone: "tel", postal_code: "postal-code" };

  // The same markup as the server's fill (api/members/mypage.py, render_field).
  function formDefault(key, value) {
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = key;
    hidden.value = value;
    hidden.setAttribute("data-kizuna-form-default", "");
    return hidden;
  }

  function choiceLabel(field, value) {
    var found = (field.choices || []).filter(function (c) { return c.value === value; })[0];
    return (found && found.label && (found.label[lang] || found.label.ja)) || String(value);
  }

  // A stored date and time (ISO 8601) for datetime-local, in the site's zone (where the server
  // reads it back), which the server's fill names; else as written.
  function localDateTime(value) {
    var zone = page.getAttribute("data-kizuna-time-zone");
    var date = new Date(value);
    if (!zone || !window.Intl || isNaN(date.getTime())) return value.slice(0, 16);
    var parts = {};
    try {
      new Intl.DateTimeFormat("en-CA", {
        timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      }).formatToParts(date).forEach(function (part) { parts[part.type] = part.value; });
    } catch (error) {
      return value.slice(0, 16);
    }
    return parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" + parts.minute;
  }

  function fieldControl(field, value, id) {
    var input;
    if (field.type === "select") {
      input = document.createElement("select");
      var empty = document.createElement("option");
      empty.value = "";
      empty.textContent = words.choose;
      input.appendChild(empty);
      (field.choices || []).forEach(function (choice) {
        var option = document.createElement("option");
        option.value = choice.value;
        option.textContent = (choice.label && (choice.label[lang] || choice.label.ja)) || choice.value;
        if (value === choice.value) option.selected = true;
        input.appendChild(option);
      });
      input.setAttribute("data-kizuna-nullable", "");
    } else if (field.type === "multi_select") {
      input = document.createElement("div");
      input.className = "member-choices";
      (field.choices || []).forEach(function (choice) {
        var label = document.createElement("label");
        var box = document.createElement("input");
        box.type = "checkbox";
        box.name = field.key;
        box.value = choice.value;
        box.setAttribute("data-kizuna-multi", "");
        box.checked = Array.isArray(value) && value.indexOf(choice.value) >= 0;
        label.appendChild(box);
        label.appendChild(document.createTextNode(" " +
          ((choice.label && (choice.label[lang] || choice.label.ja)) || choice.value)));
        input.appendChild(label);
      });
      input.appendChild(formDefault(field.key, ""));
      input.id = id;
      return input;
    } else if (field.type === "boolean") {
      input = document.createElement("input");
      input.type = "checkbox";
      input.value = "true";
      input.checked = value === true;
    } else if (field.type === "long_text") {
      input = document.createElement("textarea");
      input.rows = 4;
      input.value = value == null ? "" : String(value);
    } else {
      input = document.createElement("input");
      input.type = INPUT_TYPES[field.type] || "text";
      if (field.type === "decimal") input.step = "any";
      if (field.type === "datetime" && typeof value === "string") value = localDateTime(value);
      input.value = value == null ? "" : String(value);
      if (field.type !== "text" && field.type !== "email") input.setAttribute("data-kizuna-nullable", "");
      var auto = AUTOCOMPLETE[field.key] || AUTOCOMPLETE[field.type];
      if (auto) input.setAttribute("autocomplete", auto);
    }
    input.name = field.key;
    input.id = id;
    if (input.type !== "checkbox") input.className = "auth-form__input";
    if (field.required && field.type !== "boolean") input.required = true;
    if (field.max_length && input.tagName !== "SELECT" && input.type !== "checkbox") {
      input.maxLength = field.max_length;
    }
    input.setAttribute("aria-describedby", id + "-errors");
    return input;
  }

  // The field's error texts, hidden, from the page's template of them (as the server fills).
  function errorSpans(box, key) {
    var texts = page.querySelector("[data-kizuna-field-error-texts]");
    if (!texts || !texts.content) return;
    all("[data-kizuna-field-error]", texts.content).forEach(function (source) {
      var code = source.getAttribute("data-kizuna-field-error").replace(/^\*:/, "");
      var span = document.createElement("span");
      span.className = "member-field__error";
      span.setAttribute("data-kizuna-field-error", key + ":" + code);
      span.textContent = source.textContent;
      span.hidden = true;
      box.appendChild(span);
    });
  }

  function renderFields(box, fields, values) {
    box.textContent = "";
    fields.forEach(function (field) {
      var id = "f-" + name + "-" + field.key;
      var wrap = document.createElement("div");
      wrap.className = "auth-form__field member-field";
      wrap.setAttribute("data-kizuna-field", field.key);
      var label = document.createElement(field.type === "multi_select" ? "span" : "label");
      label.className = "auth-form__label";
      if (field.type !== "multi_select") label.htmlFor = id;
      label.textContent = (field.label && (field.label[lang] || field.label.ja)) || field.key;
      if (!field.required) {
        var optional = document.createElement("span");
        optional.className = "member-field__optional";
        optional.textContent = " " + words.optional;
        label.appendChild(optional);
      }
      wrap.appendChild(label);
      var control = fieldControl(field, values ? values[field.key] : null, id);
      wrap.appendChild(control);
      if (field.type === "boolean") wrap.appendChild(formDefault(field.key, "false"));
      var errors = document.createElement("span");
      errors.className = "member-field__errors";
      errors.id = id + "-errors";
      errors.setAttribute("data-kizuna-errors-for", field.key);
      errorSpans(errors, field.key);
      wrap.appendChild(errors);
      box.appendChild(wrap);
    });
  }

  function startRegister() {
    var box = page.querySelector("[data-kizuna-register-fields]");
    if (!box) return;
    // Filled by the server with the site's fields and mode (api/members/formpages.py).
    if (page.hasAttribute("data-kizuna-filled")) {
      if (page.getAttribute("data-kizuna-registration") === "closed") showClosed();
      return;
    }
    request("GET", "/registration").then(function (answer) {
      if (!answer.ok || !answer.body) return;
      var form = answer.body;
      if (form.password) renderRules(form.password);
      renderFields(box, form.fields || [], null);
      if (form.mode === "closed") showClosed();
    }).catch(function () { /* keep the default fields */ });
  }

  function showClosed() {
    if (stateOfQuery().done) return;
    show({ error: "registration_closed", fields: [] });
    all("[data-kizuna-step]").forEach(function (el) { el.hidden = true; });
  }

  // ---------------------------------------------------------------- my page

  function renderProfile(profile) {
    if (!profile || !profile.fields) return;
    var box = page.querySelector("[data-kizuna-profile-fields]");
    var email = page.querySelector("[data-kizuna-member-email]");
    if (email) {
      email.textContent = words.loggedInAs + (profile.email || "");
      email.hidden = false;
    }
    if (!box) return;
    var editable = profile.fields.filter(function (f) { return f.editable; });
    var fixed = profile.fields.filter(function (f) { return !f.editable; });
    renderFields(box, editable, profile.values || {});
    if (fixed.length) {
      var list = document.createElement("dl");
      list.className = "member-readonly";
      fixed.forEach(function (field) {
        var term = document.createElement("dt");
        term.textContent = (field.label && (field.label[lang] || field.label.ja)) || field.key;
        var value = document.createElement("dd");
        var raw = (profile.values || {})[field.key];
        value.textContent = raw == null || raw === "" || (Array.isArray(raw) && !raw.length) ?
          words.never : Array.isArray(raw) ? raw.map(function (v) { return choiceLabel(field, v); }).join(", ") :
          field.type === "select" ? choiceLabel(field, raw) : raw === true ? words.yes :
          raw === false ? words.never : String(raw);
        list.appendChild(term);
        list.appendChild(value);
      });
      box.appendChild(list);
    }
    var form = box.closest("form");
    if (form) form.hidden = editable.length === 0;
  }

  function when(iso) {
    if (!iso) return words.never;
    var date = new Date(iso);
    if (isNaN(date.getTime())) return iso;
    return date.toLocaleString(lang === "en" ? "en-GB" : "ja-JP", {
      year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    });
  }

  function agentName(ua) {
    if (!ua) return words.unknown;
    var browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" :
      /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "";
    var system = /iPhone|iPad/.test(ua) ? "iOS" : /Android/.test(ua) ? "Android" :
      /Windows/.test(ua) ? "Windows" : /Mac OS X/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : "";
    return [browser, system].filter(Boolean).join(" / ") || ua.slice(0, 60);
  }

  function slot(item, key, text) {
    var el = item.querySelector("[data-kizuna-session-" + key + "]");
    if (el) el.textContent = text;
  }

  // One item of the page's session template per session, as the server's fill makes them:
  // each with its plain form (POST /api/members/sessions/{id}/end), sent as JSON here.
  function renderSessions(sessions) {
    var list = page.querySelector("[data-kizuna-sessions]");
    var template = page.querySelector("[data-kizuna-session-template]");
    if (!list || !template || !template.content) return;
    all("[data-session]", list).forEach(function (el) { el.parentNode.removeChild(el); });
    sessions.forEach(function (session) {
      var item = template.content.firstElementChild.cloneNode(true);
      item.setAttribute("data-session", session.id);
      slot(item, "agent", agentName(session.user_agent));
      slot(item, "used", when(session.last_used_at || session.created_at));
      slot(item, "ip", session.ip || words.never);
      item.querySelector("[data-kizuna-session-current]").hidden = !session.current;
      var form = item.querySelector("form");
      if (form) {
        form.setAttribute("action",
          form.getAttribute("action").replace("{id}", encodeURIComponent(session.id)));
        form.addEventListener("submit", function (event) { submit(form, event); });
      }
      list.appendChild(item);
    });
    list.hidden = sessions.length === 0;
  }

  function startMypage() {
    // Filled by the server (for the member, or for an anonymous visitor): nothing to fetch.
    if (name !== "mypage" || page.hasAttribute("data-kizuna-filled")) return;
    request("GET", "/profile").then(function (answer) {
      if (answer.status === 401) {
        all(".member-section").forEach(function (el) { el.hidden = true; });
        all('[data-kizuna-when="anonymous"]').forEach(function (el) { el.hidden = false; });
        return;
      }
      if (!answer.ok) return;
      renderProfile(answer.body);
      return request("GET", "/sessions").then(function (sessions) {
        if (sessions.ok && Array.isArray(sessions.body)) renderSessions(sessions.body);
      });
    }).catch(function () { /* the API is not there: keep the plain forms */ });
  }

  // ---------------------------------------------------------------- start

  function start() {
    page.classList.add("member-page--js");
    var state = stateOfQuery();
    show(state);
    keepQuery();
    showPasswordToggles();
    if (name === "login") return; // member.js handles the log-in form itself
    all("form[data-kizuna-form]").forEach(function (form) {
      form.addEventListener("submit", function (event) { submit(form, event); });
    });
    showRules();
    startRegister();
    startMypage();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
