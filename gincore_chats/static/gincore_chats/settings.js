/* gincore-chats settings pages: confirm dialogs for destructive actions, and copy buttons.

   A submit button with data-confirm="..." asks first, in a modal dialog (Cancel has the focus,
   Escape cancels, the focus returns to the button). data-confirm-ok names the confirming
   button; data-confirm-when="replace" asks only while that checkbox is ticked, and
   data-confirm-when="!active" only when that checkbox was ticked and is now cleared. Without
   JavaScript the forms still work, without the question. */
(function () {
  "use strict";
  var t = window.gincoreTexts.t;
  var dialog = document.getElementById("gc-confirm");
  // On a phone the navigation is a scrolling row: keep the current page's item in view.
  var current = document.querySelector(".gc-side a[aria-current=page]");
  if (current && current.parentNode.closest(".gc-side").scrollWidth > innerWidth) {
    current.scrollIntoView({ block: "nearest", inline: "center" });
  }

  function wanted(button) {
    var rule = button.dataset.confirmWhen;
    if (!rule) return true;
    var negate = rule.charAt(0) === "!", field = button.form.elements[negate ? rule.slice(1) : rule];
    if (!field) return false;
    return negate ? field.defaultChecked && !field.checked : field.checked;
  }

  document.addEventListener("submit", function (e) {
    var button = e.submitter;
    if (!dialog || !button || !button.dataset.confirm || button.dataset.confirmed || !wanted(button)) return;
    e.preventDefault();
    document.getElementById("gc-confirm-text").textContent = button.dataset.confirm;
    document.getElementById("gc-confirm-ok").textContent = button.dataset.confirmOk || t("Confirm");
    dialog.returnValue = "";
    dialog.onclose = function () {
      if (dialog.returnValue !== "ok") return button.focus();
      button.dataset.confirmed = "1";
      button.form.requestSubmit(button);
      delete button.dataset.confirmed;
    };
    dialog.showModal();
  });

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.dataset.copy);
    var status = document.getElementById(button.dataset.copyStatus);
    button.addEventListener("click", function () {
      source.select();
      var copied = navigator.clipboard ? navigator.clipboard.writeText(source.value) : Promise.reject();
      copied.catch(function () { document.execCommand("copy"); }).then(function () {
        if (status) status.textContent = t("Copied.");
      });
    });
  });
})();
