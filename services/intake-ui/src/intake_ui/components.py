"""Small FT components shared by every page: fields with their labels and errors, alerts."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from fasthtml import common as fh

from intake_ui.fields import FieldSpec
from intake_ui.security import CSRF_FIELD
from intake_ui.validation import CHECKED

HONEYPOT_FIELD = "website"


def field(
    spec: FieldSpec,
    value: str = "",
    error: str | None = None,
    *,
    validate_url: str | None = None,
    label: Any = None,
) -> Any:
    """A labelled input; with ``validate_url`` htmx re-checks it on change and swaps it in place."""
    described_by = []
    if error:
        described_by.append(f"{spec.id}-error")
    if spec.hint:
        described_by.append(f"{spec.id}-hint")
    attrs: dict[str, Any] = {
        "id": spec.id,
        "name": spec.name,
        "required": spec.required,
        "aria_invalid": "true" if error else None,
        "aria_describedby": " ".join(described_by) or None,
        "autocomplete": spec.autocomplete,
    }
    hint = fh.Small(spec.hint, id=f"{spec.id}-hint", cls="hint") if spec.hint else None
    message = fh.Small(error, id=f"{spec.id}-error", cls="field-error") if error else None
    if spec.kind == "checkbox":
        control = fh.Label(
            fh.Input(type="checkbox", value=CHECKED, checked=value == CHECKED, **attrs),
            label or spec.label,
            fr=spec.id,
            cls="checkbox",
        )
        parts: tuple[Any, ...] = (control, message, hint)
    else:
        parts = (
            fh.Label(label or spec.label, fr=spec.id),
            _control(spec, value, attrs),
            message,
            hint,
        )
    htmx: dict[str, Any] = {}
    if validate_url:
        htmx = {
            "hx_post": validate_url,
            "hx_trigger": "change",
            "hx_target": "this",
            "hx_swap": "outerHTML",
            # Each field's checks on their own: a newer check of the same field replaces its
            # older one. Sharing the form's one slot dropped a field's check while another
            # field's was out, and left a corrected field's old error on screen.
            "hx_sync": "this:replace",
            # Do not inherit the form's "disable its buttons while sending".
            "hx_disabled_elt": "unset",
        }
    return fh.Div(
        *(part for part in parts if part is not None), cls="field", id=f"{spec.id}-field", **htmx
    )


def _control(spec: FieldSpec, value: str, attrs: dict[str, Any]) -> Any:
    if spec.kind == "select":
        chosen = value if any(key == value for key, _ in spec.options) else ""
        return fh.Select(_rendered_options(spec.options, chosen), **attrs)
    if spec.kind == "textarea":
        return fh.Textarea(value, rows=5, maxlength=spec.maxlength, **attrs)
    extra: dict[str, Any] = {"maxlength": spec.maxlength}
    if spec.kind == "number":
        extra = {"min": spec.min, "max": spec.max, "step": 1, "inputmode": "numeric"}
    return fh.Input(type=spec.kind, value=value, **extra, **attrs)


@functools.lru_cache(maxsize=512)
def _rendered_options(options: tuple[tuple[str, str], ...], chosen: str) -> fh.NotStr:
    """A select's options as HTML, rendered once per choice.

    The country list alone has 249 options; building each as a component on every page view
    was a third of the form's rendering time. ``chosen`` is one of the options or empty, so the
    cache holds at most one entry per option of each list.
    """
    rendered = [fh.Option("Choose…", value="", selected=chosen == "")]
    rendered += [fh.Option(label, value=key, selected=key == chosen) for key, label in options]
    return fh.NotStr("".join(fh.to_xml(option) for option in rendered))


def hidden_values(values: Mapping[str, str], names: Iterable[str]) -> tuple[Any, ...]:
    """Carry answers from the other step in the form itself: the server keeps nothing."""
    return tuple(
        fh.Input(type="hidden", name=name, value=values[name]) for name in names if name in values
    )


def csrf_input(token: str) -> Any:
    return fh.Input(type="hidden", name=CSRF_FIELD, value=token)


def honeypot() -> Any:
    """Invisible to people (and to screen readers); bots that fill every field get caught."""
    return fh.Div(
        fh.Label("Leave this field empty", fr=HONEYPOT_FIELD),
        fh.Input(
            type="text", id=HONEYPOT_FIELD, name=HONEYPOT_FIELD, tabindex="-1", autocomplete="off"
        ),
        cls="hp",
        aria_hidden="true",
    )


def error_summary(errors: Mapping[str, str], specs: Iterable[FieldSpec]) -> Any:
    """A list of every problem, each linking to its field, read out when the page changes."""
    items = [
        fh.Li(
            fh.A(
                f"{spec.label.removesuffix(' (optional)')}: {errors[spec.name]}", href=f"#{spec.id}"
            )
        )
        for spec in specs
        if spec.name in errors
    ]
    if not items:
        return None
    noun = "answer needs" if len(items) == 1 else "answers need"
    return fh.Div(
        fh.H2(f"{len(items)} {noun} your attention", id="error-summary-title"),
        fh.Ul(*items),
        cls="alert alert-error",
        role="alert",
        tabindex="-1",
        aria_labelledby="error-summary-title",
        data_focus="true",
    )


def alert(
    message: str, *, title: str = "We could not send your request", kind: str = "error"
) -> Any:
    return fh.Div(
        fh.H2(title),
        fh.P(message),
        cls=f"alert alert-{kind}",
        role="alert",
        tabindex="-1",
        data_focus="true",
    )


def step_indicator(current: int, steps: tuple[str, ...] = ("Company", "Project")) -> Any:
    """Where the form is, as a named list (no links in it, so no navigation landmark).
    ``current`` past the last step: every step done."""
    done = current > len(steps)
    return fh.Ol(
        *(
            fh.Li(
                fh.Span(str(number), cls="step-number", aria_hidden="true"),
                fh.Span(name),
                fh.Span(_step_state(number, current), cls="visually-hidden"),
                aria_current="step" if number == current else None,
                cls="done" if number < current else None,
            )
            for number, name in enumerate(steps, start=1)
        ),
        aria_label="Both steps done" if done and len(steps) == 2
        else "All steps done" if done else f"Step {current} of {len(steps)}",
        cls="steps progress",
    )  # fmt: skip


def _step_state(number: int, current: int) -> str:
    return " (done)" if number < current else " (current step)" if number == current else ""
