// Small progressive enhancements. Every page works without this file; it only saves clicks.
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  // Header selects (company, presence) apply on change; their submit buttons are hidden by CSS when JS runs.
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () {
      select.form.requestSubmit ? select.form.requestSubmit() : select.form.submit();
    });
  });

  // On phones the inbox filters start folded away (unless some are in use); wide screens always show them.
  var narrow = window.matchMedia("(max-width: 759px)");
  document.querySelectorAll("details[data-collapse-narrow]").forEach(function (panel) {
    if (narrow.matches && !panel.hasAttribute("data-keep-open")) {
      panel.removeAttribute("open");
    }
    narrow.addEventListener("change", function () {
      if (!narrow.matches) {
        panel.setAttribute("open", "");
      }
    });
  });

  // Destructive forms ask first.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });

  // Show a field only while a select has a given value (postpone date with status "postponed",
  // the agent of an API key with role "agent").
  function toggleWith(form, selectName, fieldSelector, value) {
    var select = form.querySelector('select[name="' + selectName + '"]');
    var field = form.querySelector(fieldSelector);
    if (!select || !field) {
      return;
    }
    var update = function () {
      var show = select.value === value || field.querySelector(".errorlist") !== null;
      field.classList.toggle("is-hidden", !show);
    };
    select.addEventListener("change", update);
    update();
  }
  document.querySelectorAll("form[data-postpone-form]").forEach(function (form) {
    toggleWith(form, "status", "[data-postpone-field]", "postponed");
  });
  document.querySelectorAll("form[data-api-key-form]").forEach(function (form) {
    toggleWith(form, "role", "[data-agent-field]", "agent");
  });

  // The new API key: select it on focus and offer a copy button.
  document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.value).then(function () {
        button.textContent = "Copied";
      });
    });
  });

  // Close the user menu with Escape, returning focus to its toggle.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    document.querySelectorAll("details.usermenu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });
})();
