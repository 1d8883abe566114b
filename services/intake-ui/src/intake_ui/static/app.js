// Progressive enhancement only: every page works without this file.
// No eval, no inline handlers: the CSP allows scripts from this origin only.
"use strict";

(function () {
  // After htmx swaps a form in, move focus to what needs attention so screen readers
  // announce it, and scroll it into view: the error summary or alert if any, else the new
  // step's heading. With hx-swap="outerHTML" the event's target is the old element, already
  // out of the page: find its replacement by id.
  document.addEventListener("htmx:afterSwap", function (event) {
    var old = event.detail.target;
    if (!old || old.classList.contains("field")) {
      return;
    }
    var region = old.isConnected ? old : (old.id && document.getElementById(old.id));
    if (!region) {
      return;
    }
    var alertBox = region.querySelector("[data-focus]");
    var focus = alertBox || region.querySelector("h1[tabindex]");
    if (focus) {
      focus.focus({ preventScroll: true });
      // A heading is shown with what sits above it (the step indicator).
      (alertBox || region).scrollIntoView({ block: "start" });
    }
  });

  // Show progress on the button that sent the form.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.tagName === "FORM") {
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.setAttribute("aria-busy", "true");
      });
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.tagName === "FORM" && form.isConnected) {
      form.querySelectorAll("button[aria-busy]").forEach(function (button) {
        button.removeAttribute("aria-busy");
      });
    }
  });

  // The network failed (server down, connection lost): htmx swaps nothing, so the answers
  // stay in the page; say so next to the buttons.
  function showProblem(form, text) {
    var note = form.querySelector(".request-problem");
    if (!note) {
      note = document.createElement("p");
      note.className = "request-problem field-error";
      note.setAttribute("role", "alert");
      var actions = form.querySelector(".actions");
      (actions || form).insertAdjacentElement("beforebegin", note);
    }
    note.textContent = text;
  }
  document.addEventListener("htmx:sendError", function (event) {
    var form = event.detail.elt;
    if (form && form.tagName === "FORM") {
      showProblem(form, "We could not reach our service. Your answers are kept: check your connection and press the button again.");
    }
  });
  document.addEventListener("htmx:responseError", function (event) {
    var form = event.detail.elt;
    if (form && form.tagName === "FORM" && event.detail.xhr.status === 403) {
      showProblem(form, "This form has expired. Reload the page to continue.");
    }
  });

  // Copy the Client ID; the button stays hidden where the clipboard API is missing.
  function enableCopyButtons(root) {
    if (!navigator.clipboard) {
      return;
    }
    root.querySelectorAll("[data-copy-target]").forEach(function (button) {
      if (button.dataset.copyReady) {
        return;
      }
      button.dataset.copyReady = "yes";
      button.hidden = false;
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy-target"));
        var status = document.getElementById("copy-status");
        navigator.clipboard.writeText(source.textContent.trim()).then(
          function () { if (status) { status.textContent = "Copied"; } },
          function () { if (status) { status.textContent = "Select the ID and copy it"; } }
        );
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { enableCopyButtons(document); });
  document.addEventListener("htmx:load", function (event) { enableCopyButtons(event.detail.elt); });
})();
