/* gincore-chats staff pages: the texts of the scripts in the manager's language.

   A classic script that runs before the console's modules and the settings scripts. The page
   embeds the translations for its locale (gincore_chats/script_texts.py) in
   <script type="application/json" id="gc-texts">; a message without a translation is its
   English source text.

     t("Join")                                  a text
     t("Joined by {name}", { name: who })       with values in braces
     tn("{n} file", "{n} files", count)         plural forms of the page's language ({n} = count)

   Values are put in as text, never as markup: the result still goes to the DOM through
   textContent like any other string. */
(function () {
  "use strict";
  var data = { lang: "en", pluralIndex: null, messages: {}, plurals: {} };
  var node = document.getElementById("gc-texts");
  if (node) {
    try { data = Object.assign(data, JSON.parse(node.textContent || "{}")); } catch (e) { /* keep English */ }
  }

  function fill(text, values) {
    if (!values) return text;
    return text.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function pluralForm(n) {
    var table = data.pluralIndex;
    n = Math.abs(Math.floor(Number(n) || 0));
    if (!table || !table.length) return n === 1 ? 0 : 1;
    return n < table.length ? table[n] : table[100 + (n % 100)];
  }

  function t(message, values) {
    var own = Object.prototype.hasOwnProperty.call(data.messages, message) ? data.messages[message] : message;
    return fill(own, values);
  }

  function tn(singular, plural, n, values) {
    var all = Object.assign({ n: n }, values || {});
    var forms = Object.prototype.hasOwnProperty.call(data.plurals, singular) ? data.plurals[singular] : null;
    if (forms) {
      var form = forms[pluralForm(n)];
      if (form) return fill(form, all);
    }
    return fill(Number(n) === 1 ? singular : plural, all);
  }

  window.gincoreTexts = { t: t, tn: tn, lang: String(data.lang || "en") };
})();
