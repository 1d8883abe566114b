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

  // A field's check answers for the value it sent, and its answer replaces the whole field,
  // box included. If the client typed on while the check was out, swapping its answer in
  // would put the old value back in the box: drop it. The new value's own check goes out when
  // the box loses focus (the change event).
  var checkedValues = new WeakMap();

  function fieldValue(field) {
    var control = field.querySelector("input, select, textarea");
    if (!control) {
      return null;
    }
    return control.type === "checkbox" ? String(control.checked) : control.value;
  }
  document.addEventListener("htmx:configRequest", function (event) {
    var field = event.detail.elt;
    if (field && field.classList && field.classList.contains("field")) {
      checkedValues.set(field, fieldValue(field));
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var field = event.detail.elt;
    if (checkedValues.has(field) && checkedValues.get(field) !== fieldValue(field)) {
      event.detail.shouldSwap = false;
    }
  });

  // The answers typed in this tab stay in its sessionStorage (not a cookie: never sent unasked,
  // gone when the tab closes or once the request is sent), so browser Back, Forward and reload
  // keep them. A step page shown by a GET is empty (the server keeps nothing and never puts
  // answers in a URL): put them back, and on step 2's address send them on to the server,
  // which checks step 1 again before it shows step 2.
  var DRAFT = "intake-form-draft";
  var NOT_KEPT = { csrf_token: true, website: true };

  function wizardForm() {
    return document.querySelector("#wizard form");
  }

  function saveDraft() {
    var form = wizardForm();
    if (!form) {
      return;
    }
    var draft = {};
    Array.prototype.forEach.call(form.elements, function (element) {
      if (!element.name || NOT_KEPT[element.name] || element.type === "submit") {
        return;
      }
      draft[element.name] = element.type === "checkbox"
        ? (element.checked ? element.value : "")
        : element.value;
    });
    try {
      sessionStorage.setItem(DRAFT, JSON.stringify(draft));
    } catch (error) {
      // Storage full or disabled: the form still works, only reload cannot bring answers back.
    }
  }

  function readDraft() {
    try {
      return JSON.parse(sessionStorage.getItem(DRAFT) || "null");
    } catch (error) {
      return null;
    }
  }

  function restoreDraft() {
    var section = document.querySelector("#wizard[data-restore]");
    var form = wizardForm();
    if (!section || !form) {
      return;
    }
    var resume = section.getAttribute("data-restore") === "resume";
    var draft = readDraft();
    if (!draft) {
      if (resume) {
        history.replaceState(history.state, "", "/");
      }
      return;
    }
    Object.keys(draft).forEach(function (name) {
      if (NOT_KEPT[name]) {
        return;
      }
      var element = form.elements.namedItem(name);
      if (!element) {
        element = document.createElement("input");
        element.type = "hidden";
        element.name = name;
        form.appendChild(element);
      }
      if (element.type === "checkbox") {
        element.checked = draft[name] === element.value;
      } else if (element.tagName) {
        element.value = draft[name];
      }
    });
    if (resume && window.htmx) {
      htmx.ajax("POST", form.getAttribute("hx-post"), {
        source: form, target: "#wizard", swap: "outerHTML"
      });
    }
  }

  function draftOnLoad() {
    if (document.querySelector("#wizard[data-sent]")) {
      try { sessionStorage.removeItem(DRAFT); } catch (error) { /* nothing kept */ }
      return;
    }
    restoreDraft();
  }

  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (event.target.closest && event.target.closest("#wizard form")) {
        saveDraft();
      }
    });
  });
  // A step the server answered holds its values (and a new idempotency key after a 409).
  document.addEventListener("htmx:afterSettle", function (event) {
    if (document.getElementById("wizard") && event.detail.elt &&
        event.detail.elt.id === "wizard") {
      saveDraft();
    }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draftOnLoad);
  } else {
    draftOnLoad();
  }

  // Show progress on the button that sent the form.
  // Show progress on the button that sent the form (not on the others), and say what is
  // happening in the form's polite status line, since sending may take a while.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.tagName !== "FORM") {
      return;
    }
    var trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    var button = (trigger && trigger.submitter) || form.querySelector("button[type=submit]");
    if (button) {
      button.setAttribute("aria-busy", "true");
    }
    var status = form.querySelector(".request-status");
    if (status && button && button.getAttribute("data-busy-text")) {
      status.textContent = button.getAttribute("data-busy-text");
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.tagName === "FORM" && form.isConnected) {
      form.querySelectorAll("button[aria-busy]").forEach(function (button) {
        button.removeAttribute("aria-busy");
      });
      var status = form.querySelector(".request-status");
      if (status) {
        status.textContent = "";
      }
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
  // A 403 is not swapped (layout.py), unless the server sent the form back with the answers
  // in it and a fresh token (the session cookie had expired or is blocked).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status === 403 && xhr.getResponseHeader("Intake-Form-Kept") === "true") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:responseError", function (event) {
    var form = event.detail.elt;
    if (form && form.tagName === "FORM" && event.detail.xhr.status === 403) {
      showProblem(form, "This page could not be verified, for example because it was open for a long time. Reload the page and try again.");
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
