"""Each lead action has one entry (leads.entries), and its form and its API endpoint are made
from it: neither can get an input the other lacks unless the input is declared for one side."""

from __future__ import annotations

import inspect
from collections import Counter

import pytest

from dcc_site.api import api
from leads import decisions
from leads.entries import API, DECLARED, ENTRIES, FORM
from leads.stages import Action

# Registered actions with an entry point of their own rather than a form and an endpoint.
WITHOUT_ENTRY = {
    "reveal_phone",  # POST /leads/{id}/reveal-phone, the phone link on the page
    "phone_call",  # the phone system's pushes (calls.push), not a person's form
    "listen_to_recording",  # the recording player (calls.views.play)
    "record_fact",  # owner operations' complaints and the audit group's results (owners, audit)
    "overturn_exit",  # an audit's finding (audit), with the audit it comes from
}


def test_every_action_has_exactly_one_entry():
    assert Counter(entry.action for entry in DECLARED) == Counter(set(Action) - {Action.OVERTURN})
    # The lead page offers them in the stage table's order.
    assert list(ENTRIES) == [action for action in Action if action != Action.OVERTURN]


def test_every_registered_action_with_an_entry_point_has_exactly_one_entry():
    performed = Counter(entry.does.__name__ for entry in DECLARED)
    assert performed == Counter(set(decisions.LEAD_ACTIONS) - WITHOUT_ENTRY)


@pytest.mark.parametrize("entry", DECLARED, ids=lambda entry: entry.action.value)
def test_the_form_and_the_schema_have_the_same_inputs_but_the_declared_ones(entry):
    on_form = set(entry.form.base_fields) - {"version"}
    in_api = set(entry.schema.model_fields) - {"version"}
    assert on_form == {i.name for i in entry.on(FORM)}
    assert in_api == {i.name for i in entry.on(API)}
    assert on_form ^ in_api == {i.name for i in entry.inputs if i.only}
    assert ("version" in entry.schema.model_fields) == entry.versioned


@pytest.mark.parametrize("entry", DECLARED, ids=lambda entry: entry.action.value)
def test_the_inputs_are_what_the_action_takes(entry):
    takes = inspect.signature(decisions.LEAD_ACTIONS[entry.does.__name__]).parameters
    for i in entry.inputs:
        if i.passed:
            assert takes[i.name].kind is inspect.Parameter.KEYWORD_ONLY, i.name
        else:
            assert entry.then is not None, f"{i.name}: read by no `then`"


@pytest.mark.parametrize("entry", DECLARED, ids=lambda entry: entry.action.value)
def test_each_entry_has_its_endpoint(entry):
    paths = api.get_openapi_schema()["paths"]
    operation = paths[f"/api/v1/leads/{{lead_id}}{entry.path}"]["post"]
    assert operation["summary"] == entry.summary
    assert operation["operationId"] == f"leads_api_{entry.name}"
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"] == f"#/components/schemas/{entry.schema_name}"
    assert operation["responses"][200]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LeadOut"
    }


@pytest.mark.parametrize("entry", DECLARED, ids=lambda entry: entry.action.value)
def test_entries_sharing_a_schema_name_declare_the_same_api_inputs(entry):
    assert entry.build_schema().model_json_schema() == entry.schema.model_json_schema()
