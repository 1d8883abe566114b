"""The erase form: why, an optional note, and the Client ID typed to confirm."""

from __future__ import annotations

from typing import Any

from fasthtml import common as fh

from intake_ui.admin_erasure import (
    CONFIRM,
    NOTE,
    REASON,
    REASON_CHOICES,
    ErasureAnswers,
)
from intake_ui.components import csrf_input, error_summary, field


def _reason_choices(chosen: str, error: str | None) -> Any:
    """A required radio group; its error sits under the legend, where it is read first."""
    return fh.Fieldset(
        fh.Legend("Why are you erasing it?"),
        fh.Small(error, id=f"{REASON.id}-error", cls="field-error") if error else None,
        *(
            fh.Label(
                fh.Input(
                    type="radio",
                    name=REASON.name,
                    value=reason.value,
                    id=f"{REASON.id}-{reason.value}",
                    required=True,
                    checked=reason.value == chosen,
                    aria_invalid="true" if error else None,
                ),
                words,
                fr=f"{REASON.id}-{reason.value}",
            )
            for reason, words in REASON_CHOICES.items()
        ),
        id=REASON.id,
        aria_describedby=f"{REASON.id}-error" if error else None,
        cls="erase-reasons",
    )


def erase_confirmation(
    client_id: str, action: str, back: str, csrf: str, answers: ErasureAnswers | None = None
) -> Any:
    answers = answers or ErasureAnswers()
    values, errors = answers.values, answers.errors
    confirm_error = errors.get(CONFIRM.name)
    return fh.Section(
        fh.H1("Erase personal data"),
        error_summary(errors, (REASON, NOTE, CONFIRM)),
        fh.Div(
            fh.H2("This cannot be undone"),
            fh.P(
                f"Erasing {client_id} removes the company, contact and engagement details "
                "everywhere the platform keeps them. A tombstone (Client ID, dates, status, "
                "industry, service type) and the audit trail remain: the audit trail records "
                "who erased it, when and why."
            ),
            cls="alert alert-info",
        ),
        fh.Form(
            csrf_input(csrf),
            _reason_choices(values.get(REASON.name, ""), errors.get(REASON.name)),
            field(NOTE, values.get(NOTE.name, ""), errors.get(NOTE.name)),
            fh.Div(
                fh.Label(f"Type the Client ID {client_id} to confirm", fr=CONFIRM.id),
                fh.Input(
                    type="text",
                    id=CONFIRM.id,
                    name=CONFIRM.name,
                    value=values.get(CONFIRM.name, ""),
                    required=True,
                    maxlength=32,
                    autocomplete="off",
                    spellcheck="false",
                    aria_invalid="true" if confirm_error else None,
                    aria_describedby=f"{CONFIRM.id}-error" if confirm_error else None,
                ),
                fh.Small(confirm_error, id=f"{CONFIRM.id}-error", cls="field-error")
                if confirm_error
                else None,
                cls="field",
            ),
            fh.Div(
                fh.A("Cancel", href=back, cls="button-link"),
                fh.Button("Erase personal data", type="submit", cls="contrast"),
                cls="actions",
            ),
            method="post",
            enctype="application/x-www-form-urlencoded",
            action=action,
        ),
        id="erase",
    )
