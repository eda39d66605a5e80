/* gincore-chats: Reveal buttons of a channel source's secrets.

   Each Reveal button sits in a form that POSTs for the value (the server writes the reveal to
   the audit log). With JavaScript the answer fills the masked field in place and the button
   turns into Hide; without it the form opens a page that shows the value. */
(function () {
  "use strict";
  var t = window.gincoreTexts.t;
  document.querySelectorAll("form[data-reveal]").forEach(function (form) {
    var field = document.getElementById(form.dataset.reveal);
    var status = document.getElementById(form.dataset.reveal + "-status");
    var button = form.querySelector("button");
    var label = button.textContent;
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (field.type === "text") {
        field.value = "";
        field.type = "password";
        button.textContent = label;
        button.setAttribute("aria-expanded", "false");
        status.textContent = t("Hidden.");
        return;
      }
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRF-Token": form.elements.csrf_token.value },
      })
        .then(function (r) {
          return r.json().then(function (body) {
            if (!r.ok) throw new Error(body.error || t("The server answered {status}.", { status: r.status }));
            return body;
          });
        })
        .then(function (body) {
          field.type = "text";
          field.value = body.value;
          button.textContent = t("Hide");
          button.setAttribute("aria-expanded", "true");
          status.textContent = t("Shown. This reveal was written to the audit log.");
          field.focus();
          field.select();
        })
        .catch(function (err) {
          status.textContent = t("Could not reveal it: {error}", { error: err.message });
        })
        .then(function () {
          button.disabled = false;
        });
    });
  });
})();
