// The checks visengine's Validate makes, repeated in the browser so an
// applicant learns of a missing or mistyped field before uploading
// anything. The server checks again and decides; this script only spares
// a round trip. Without it the form still works.
(function () {
  "use strict";
  var form = document.getElementById("visengine-form");
  if (!form || !window.JSON || !document.querySelector) { return; }
  var cfg = JSON.parse(form.getAttribute("data-config"));
  var msg = cfg.messages[form.getAttribute("data-lang")] || cfg.messages.it;
  form.noValidate = true; // our messages, in the page's language, replace the browser's

  var ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];
  var OMOCODIA = "LMNPQRSTUV", MONTHS = "ABCDEHLMPRST", LAYOUT = "LLLLLLNNMNNLNNNL";

  function control(id) { return document.getElementById(id); }
  function filled(el) { return el.type === "file" ? el.files.length > 0 : el.value.trim() !== ""; }
  function isLetter(c) { return c >= "A" && c <= "Z"; }
  function digit(c) { return c >= "0" && c <= "9" ? c.charCodeAt(0) - 48 : OMOCODIA.indexOf(c); }
  function daysIn(month, year) { return new Date(year, month, 0).getDate(); }

  // cfPersona mirrors itcheck.CodiceFiscalePersona: layout, month, day,
  // the date's existence and the check character.
  function cfPersona(s) {
    if (s.length !== 16) { return "bad_length"; }
    var u = s.toUpperCase(), i;
    if (!/^[A-Z0-9]{16}$/.test(u)) { return "bad_format"; }
    for (i = 0; i < 16; i++) {
      if ((LAYOUT[i] !== "N" && !isLetter(u[i])) || (LAYOUT[i] === "N" && digit(u[i]) < 0)) { return "bad_format"; }
    }
    var month = MONTHS.indexOf(u[8]) + 1;
    if (month === 0) { return "bad_birth_date"; }
    var yy = digit(u[6]) * 10 + digit(u[7]), day = digit(u[9]) * 10 + digit(u[10]);
    if (day > 40) { day -= 40; }
    if (day < 1 || day > 31 || (day > daysIn(month, 1900 + yy) && day > daysIn(month, 2000 + yy))) { return "bad_birth_date"; }
    var sum = 0;
    for (i = 0; i < 15; i++) {
      var v = isLetter(u[i]) ? u.charCodeAt(i) - 65 : u.charCodeAt(i) - 48;
      sum += i % 2 === 0 ? ODD[v] : v;
    }
    return String.fromCharCode(65 + sum % 26) === u[15] ? "" : "check_char";
  }

  // piva mirrors the partita IVA's Luhn check digit.
  function piva(s) {
    if (s.length !== 11) { return "bad_length"; }
    if (!/^[0-9]{11}$/.test(s)) { return "bad_format"; }
    var sum = 0;
    for (var i = 0; i < 11; i++) {
      var d = s.charCodeAt(i) - 48;
      if (i % 2 === 1) { d *= 2; if (d > 9) { d -= 9; } }
      sum += d;
    }
    return sum % 10 === 0 ? "" : "check_char";
  }

  function realDate(s) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s), y, mo, d;
    if (m) { y = +m[1]; mo = +m[2]; d = +m[3]; } else {
      m = /^(\d{2})-(\d{2})-(\d{4})$/.exec(s);
      if (!m) { return false; }
      d = +m[1]; mo = +m[2]; y = +m[3];
    }
    return mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(mo, y);
  }

  // formatValue returns the problem code of a filled text value of tipo,
  // or "": the checks of visengine's checkFormat.
  function formatValue(tipo, s) {
    var code = "";
    switch (tipo) {
      case "codice_fiscale_persona_fisica": code = cfPersona(s); break;
      case "codice_fiscale": code = s.length === 11 ? piva(s) : s.length === 16 ? cfPersona(s) : "bad_length"; break;
      case "partita_iva": code = s.length === 16 ? cfPersona(s) : s.length === 11 ? piva(s) : "bad_length"; break;
      case "email": code = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$/.test(s) ? "" : "bad_email"; break;
      case "cod_comune": code = /^[A-Za-z][0-9]{3}$/.test(s) ? "" : "bad_format"; break;
      case "cod_provincia": code = /^[A-Za-z]{2}$/.test(s) ? "" : "bad_format"; break;
      case "data_iso8601": code = realDate(s) ? "" : "bad_date"; break;
    }
    return code !== "" && s.trim() !== s ? "blank_around" : code;
  }
  form.visengineFormat = formatValue; // for the tests that compare it with the server's checks

  // format returns the problem code of a filled control, or "".
  function format(el) {
    if (el.type === "file") {
      var f = el.files[0];
      return f.size === 0 ? "empty_file" : f.size > cfg.maxFileSize ? "too_large" : "";
    }
    return formatValue(el.getAttribute("data-tipo"), el.value);
  }

  // ruleProblems mirrors Explain: the fields each smallest way to satisfy
  // the rule still lacks; those in all of them are missing, the others
  // one_of_missing.
  function ruleProblems(problems) {
    var alts = cfg.alternatives || [], lacks = [], i, j;
    for (i = 0; i < alts.length; i++) {
      var l = alts[i].filter(function (id) { return !filled(control(id)); });
      if (l.length === 0) { return; }
      lacks.push(l);
    }
    lacks = lacks.filter(function (a) {
      return !lacks.some(function (b) { return b !== a && b.length < a.length && b.every(function (id) { return a.indexOf(id) >= 0; }); });
    });
    var seen = {};
    for (i = 0; i < lacks.length; i++) {
      for (j = 0; j < lacks[i].length; j++) {
        var id = lacks[i][j];
        if (seen[id]) { continue; }
        seen[id] = true;
        var all = lacks.every(function (a) { return a.indexOf(id) >= 0; });
        problems[id] = all ? "missing" : "one_of_missing";
      }
    }
  }

  function show(problems) {
    var list = control("error-list"), summary = control("error-summary"), any = false;
    list.textContent = "";
    var fields = form.querySelectorAll("[data-tipo]");
    for (var i = 0; i < fields.length; i++) {
      var el = fields[i], code = problems[el.id], err = control(el.id + "-error"), box = control(el.id + "-field");
      err.textContent = code ? msg[code] : "";
      err.hidden = !code;
      box.className = code ? "field field-error" : "field";
      if (code) {
        el.setAttribute("aria-invalid", "true");
        var li = document.createElement("li"), a = document.createElement("a");
        a.href = "#" + el.id;
        a.textContent = document.querySelector("label[for='" + el.id + "']").firstChild.textContent.trim() + ": " + msg[code];
        li.appendChild(a);
        list.appendChild(li);
        any = true;
      } else {
        el.removeAttribute("aria-invalid");
      }
    }
    summary.hidden = !any;
    if (any) { summary.focus(); }
    return any;
  }

  form.addEventListener("submit", function (ev) {
    var problems = {}, fields = form.querySelectorAll("[data-tipo]");
    for (var i = 0; i < fields.length; i++) {
      if (filled(fields[i])) {
        var code = format(fields[i]);
        if (code) { problems[fields[i].id] = code; }
      }
    }
    ruleProblems(problems);
    if (show(problems)) { ev.preventDefault(); }
  });
}());
