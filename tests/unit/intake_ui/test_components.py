"""Components render labels, ids, browser checks and errors (parsed with html.parser via bs4)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from fasthtml import common as fh

from intake_core.domain.models import SubmissionCreate
from intake_ui.components import error_summary, field, honeypot, step_indicator
from intake_ui.fields import CONSENT, field_by_name, step_one_fields, step_two_fields


def render(component: object) -> BeautifulSoup:
    return BeautifulSoup(fh.to_xml(component), "html.parser")


@pytest.mark.parametrize("spec", [*step_one_fields(), *step_two_fields()], ids=lambda s: s.name)
def test_every_field_has_a_visible_label_pointing_at_it(spec: object) -> None:
    html = render(field(spec))
    control = html.find(attrs={"name": spec.name})
    assert control["id"] == spec.id
    label = html.find("label", attrs={"for": spec.id})
    assert label is not None and label.get_text(strip=True)
    assert control.has_attr("required") == spec.required
    assert not control.has_attr("aria-invalid")


def test_browser_checks_come_from_html_attributes() -> None:
    email = render(field(field_by_name("company.contact.email"))).find("input")
    assert email["type"] == "email" and email["maxlength"] == "254"
    phone = render(field(field_by_name("company.contact.phone"))).find("input")
    assert phone["type"] == "tel"
    size = render(field(field_by_name("company.size"))).find("input")
    assert size["type"] == "number" and size["min"] == "1"
    scope = render(field(field_by_name("engagement.scope"))).find("textarea")
    assert scope["maxlength"] == "5000"


def _published_rule(path: str) -> tuple[dict, bool]:
    """A body field's rule in intake-api's published JSON Schema, and whether it is required."""
    schema = SubmissionCreate.model_json_schema(by_alias=True)

    def resolved(node: dict) -> dict:
        if "$ref" in node:
            return schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        if "anyOf" in node:  # an optional field: the rule beside null
            return resolved(next(option for option in node["anyOf"] if option != {"type": "null"}))
        return node

    node, required = schema, True
    for key in path.split("."):
        parent = resolved(node)
        node, required = parent["properties"][key], key in parent.get("required", ())
    return resolved(node), required


@pytest.mark.parametrize("spec", [*step_one_fields(), *step_two_fields()], ids=lambda s: s.name)
def test_the_browser_checks_are_the_apis_published_rules(spec: object) -> None:
    # What the browser lets through is not refused for its length or size, nor the other way
    # round, and both are what the OpenAPI document tells other clients.
    rule, required = _published_rule(spec.name)
    assert spec.required == required
    if spec.kind != "select":
        assert spec.maxlength == rule.get("maxLength")
    assert (spec.min, spec.max) == (rule.get("minimum"), rule.get("maximum"))


def test_an_error_sits_next_to_its_field_and_is_announced() -> None:
    spec = field_by_name("company.contact.email")
    html = render(field(spec, "nope", "Enter an email address.", validate_url="/fields/x"))
    control = html.find("input")
    assert control["aria-invalid"] == "true"
    assert control["value"] == "nope"
    described = control["aria-describedby"].split()
    assert html.find(id=described[0]).get_text() == "Enter an email address."
    assert html.find(id=described[1]).get_text().startswith("We only use it")
    wrapper = html.find("div", class_="field")
    assert wrapper["hx-post"] == "/fields/x" and wrapper["hx-target"] == "this"
    assert wrapper["hx-swap"] == "outerHTML"


def test_selects_keep_the_choice_and_show_human_labels() -> None:
    html = render(field(field_by_name("engagement.timeline"), "1-3-months"))
    chosen = html.find("option", selected=True)
    assert chosen["value"] == "1-3-months" and chosen.get_text() == "In 1 to 3 months"
    countries = render(field(field_by_name("company.address.country"), "GB"))
    assert countries.find("option", selected=True).get_text() == "United Kingdom"


def test_text_is_escaped() -> None:
    hostile = '"><script>alert(1)</script>'
    html = fh.to_xml(field(field_by_name("company.name"), hostile, hostile))
    assert "<script>" not in html
    assert render(field(field_by_name("company.name"), hostile)).find("input")["value"] == hostile


def test_the_consent_checkbox_keeps_its_state() -> None:
    ticked = render(field(CONSENT, "yes")).find("input")
    assert ticked.has_attr("checked") and ticked["type"] == "checkbox"
    assert not render(field(CONSENT, "")).find("input").has_attr("checked")


def test_error_summary_links_to_each_field_in_form_order() -> None:
    errors = {"company.contact.email": "Bad.", "company.name": "Missing."}
    html = render(error_summary(errors, step_one_fields()))
    links = [a["href"] for a in html.find_all("a")]
    assert links == ["#company-name", "#company-contact-email"]
    assert html.find(attrs={"role": "alert"}) is not None
    assert error_summary({}, step_one_fields()) is None


def test_step_indicator_marks_the_current_step() -> None:
    html = render(step_indicator(2))
    current = html.find("li", attrs={"aria-current": "step"})
    assert "Project" in current.get_text()
    # A list named by where the form is, not a navigation landmark without links.
    assert html.find("nav") is None
    assert html.find("ol")["aria-label"] == "Step 2 of 2"
    assert "Company (done)" in html.find("li", class_="done").get_text()


def test_after_the_last_step_every_step_is_done_and_none_current() -> None:
    html = render(step_indicator(3))
    assert html.find("ol")["aria-label"] == "Both steps done"
    assert len(html.find_all("li", class_="done")) == 2
    assert html.find("li", attrs={"aria-current": True}) is None


def test_the_honeypot_is_hidden_from_people_and_assistive_tech() -> None:
    html = render(honeypot())
    assert html.find("div")["aria-hidden"] == "true"
    assert html.find("input")["tabindex"] == "-1"
    assert html.find("input")["autocomplete"] == "off"


def test_a_select_keeps_the_chosen_option_and_unknown_values_cannot_grow_its_cache() -> None:
    from intake_ui.components import _rendered_options

    country = field_by_name("company.address.country")
    html = render(field(country, "GB"))
    [chosen] = html.find_all("option", selected=True)
    assert chosen["value"] == "GB"
    assert len(html.find_all("option")) == len(country.options) + 1

    before = _rendered_options.cache_info().currsize
    for hostile in ("ZZ", "<script>", "GB\x00", "x" * 500, *(f"K{n}" for n in range(100))):
        html = render(field(country, hostile))
        assert [option["value"] for option in html.find_all("option", selected=True)] == [""]
        assert "<script>" not in str(html.find("select"))
    # Every unknown value renders as no choice: one cache entry at most, not one per value.
    assert _rendered_options.cache_info().currsize <= before + 1
