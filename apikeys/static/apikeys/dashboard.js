// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Copy buttons on the show-once page (the key, and each snippet): navigator.clipboard,
  // else select the text. data-copy-target names the field or <pre>; data-copy-status
  // the live region that says what happened (the key's own is #copy-status).
  function setupCopy(button) {
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    var status = document.getElementById(button.getAttribute("data-copy-status") || "copy-status");
    if (!source) return;
    var isField = "value" in source && source.tagName !== "PRE";
    var label = button.firstChild;
    button.hidden = false;
    if (status && !button.hasAttribute("data-copy-status")) {
      status.textContent = "Use the Copy button, or select the key and copy it.";
    }
    function text() { return isField ? source.value : source.textContent; }
    function select() {
      if (isField) { source.focus(); source.select(); return; }
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    button.addEventListener("click", function () {
      function copied() {
        document.querySelectorAll(".copied").forEach(function (other) {
          if (other !== button && other.firstChild) other.firstChild.nodeValue = "Copy";
          other.classList.remove("copied");
        });
        label.nodeValue = "Copied";
        button.classList.add("copied");
        if (status) status.textContent = "Copied to the clipboard.";
      }
      function fallback() {
        select();
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
        if (ok) { copied(); } else if (status) { status.textContent = "Press Ctrl+C (⌘C) to copy the selected text."; }
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text()).then(copied, fallback);
      } else {
        fallback();
      }
    });
    if (isField) source.addEventListener("focus", function () { source.select(); });
  }

  // A double click on "Create key" sends one request (the server refuses a second anyway).
  function setupOnce(button) {
    var form = button.form;
    if (!form) return;
    form.addEventListener("submit", function (event) {
      if (event.submitter && event.submitter !== button) return;
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
    });
  }

  // Typing a date in the wizard's Expiration step picks "On a date" and shows the
  // resulting date, as the other choices do (the server checks it again on Next).
  function setupExpiryDate(input) {
    var result = document.querySelector("[data-expiry-date-result]");
    function show() {
      if (!input.value) { if (result) result.textContent = ""; return; }
      var radio = document.querySelector("input[name=expiry][value=date]");
      if (radio) radio.checked = true;
      if (!result) return;
      var days = Math.ceil((Date.parse(input.value + "T00:00:00Z") - Date.now()) / 86400000);
      if (isNaN(days)) { result.textContent = ""; return; }
      result.textContent = days < 1
        ? "That day has already begun: choose a later date."
        : "expires " + input.value + " 00:00 UTC, in " + days + (days === 1 ? " day" : " days");
    }
    input.addEventListener("input", show);
    input.addEventListener("change", show);
  }

  // The wizard: focus starts on the step's first field (or the first one in error),
  // and on a group of radios on its checked one, where the keyboard would put it;
  // the Custom checkboxes are disabled while a preset is chosen.
  function setupWizard(form) {
    var first = form.querySelector(".errors input:not([type=hidden]), .errors textarea") ||
      form.querySelector("input:not([type=hidden]):not([disabled]), textarea, select");
    if (first && first.type === "radio") {
      form.querySelectorAll("input[type=radio]:checked").forEach(function (radio) {
        if (radio.name === first.name) first = radio;
      });
    }
    if (first && form.getAttribute("data-wizard-step") !== "review") first.focus();
    var presets = form.querySelectorAll("input[name=preset]");
    if (!presets.length) return;
    function sync() {
      var custom = form.querySelector("input[name=preset][value=custom]");
      var on = custom && custom.checked;
      form.querySelectorAll(".custom-permissions input[type=checkbox]").forEach(function (box) { box.disabled = !on; });
    }
    presets.forEach(function (radio) { radio.addEventListener("change", sync); });
    sync();
  }

  function init(root) {
    root.querySelectorAll("form[data-wizard-step]").forEach(setupWizard);
    root.querySelectorAll("input[name=expiry_date]").forEach(setupExpiryDate);
    root.querySelectorAll("[data-copy-target]").forEach(setupCopy);
    root.querySelectorAll("button[data-once]").forEach(setupOnce);
    var auto = root.querySelector("[data-autofocus]");
    if (auto) auto.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    // data-swap-focus marks where focus goes after an htmx swap, not on a page load.
    document.querySelectorAll("[data-swap-focus]").forEach(function (el) { el.removeAttribute("data-swap-focus"); });
    init(document);
  });

  // Focus moves to swapped content, except while someone types in a filter form.
  document.addEventListener("htmx:afterSettle", function (event) {
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (source && source.closest && source.closest("form[role=search]")) return;
    var target = document.querySelector("[data-swap-focus]");
    if (target) {
      target.focus();
      target.removeAttribute("data-swap-focus");
    } else if (event.detail.target && event.detail.target.isConnected) {
      if (!event.detail.target.hasAttribute("tabindex")) event.detail.target.setAttribute("tabindex", "-1");
      event.detail.target.focus();
    }
  });

  // A row action of the key list opens its confirmation in a row below the key's row:
  // one at a time per key, so a second click replaces the first confirmation.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    var id = source && source.getAttribute && source.getAttribute("data-row-action");
    var open = id && document.getElementById(id);
    if (open) open.remove();
  });

  // The usage chart: the bar under the pointer or with focus shows its numbers below.
  function showBar(event) {
    var bar = event.target.closest && event.target.closest("[data-chart-value]");
    if (!bar) return;
    var readout = bar.closest(".module").querySelector("[data-chart-readout]");
    if (readout) readout.textContent = bar.getAttribute("data-chart-value");
  }
  document.addEventListener("mouseover", showBar);
  document.addEventListener("focusin", showBar);

  // "Go back" on an error page: the previous page when there is one (else the link's href).
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-history-back]");
    if (!link || window.history.length < 2) return;
    event.preventDefault();
    window.history.back();
  });

  // "Cancel" in a panel loaded by htmx just closes the panel.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-dismiss-panel]");
    var confirmRow = link && link.closest("tr.confirm-row");
    if (confirmRow) {
      event.preventDefault();
      var keyRow = confirmRow.previousElementSibling;
      confirmRow.remove();
      var action = keyRow && keyRow.querySelector("[data-row-action]");
      if (action) action.focus();
      return;
    }
    var panel = link && link.closest("#action-panel");
    if (!panel) return;
    event.preventDefault();
    panel.innerHTML = "";
    var actions = document.querySelector(".key-actions a, .key-actions button");
    if (actions) actions.focus();
  });
})();
