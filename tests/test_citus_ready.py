"""Ready to distribute by dealer (Citus; docs/scale.md): every model is dealer-owned (carries
the dealer) or listed in dcc/distribution.py as a reference or coordinator table; every unique
constraint of a dealer-owned table includes the dealer; every foreign key can be co-located.
The breaches known today are listed there with what distribution would take; a new one fails.

And the pages of one dealer: no query names another dealer, and the number of queries that
would not go to the dealer's worker alone (a dealer-owned table in them without its own dealer
filter) may not grow (baseline: citus_routing.json beside this file)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection, models
from django.test.utils import CaptureQueriesContext, isolate_apps

from dcc.distribution import (
    COORDINATOR_TABLES,
    CROSS_DEALER_READS,
    KNOWN_EXCEPTIONS,
    REFERENCE_TABLES,
)
from tests.conftest import Team
from tests.factories import make_lead
from tests.kit import check_query_counts, login
from tests.leads.test_query_counts import working_day

ROUTING_BASELINE = Path(__file__).with_name("citus_routing.json")

OWNED, REFERENCE, COORDINATOR = "dealer-owned", "reference", "coordinator"


def carries_dealer(model: type[models.Model]) -> bool:
    return any(
        field.name == "dealer"
        and field.is_relation
        and field.related_model._meta.label == "accounts.Dealer"
        for field in model._meta.concrete_fields
    )


def kind_of(model: type[models.Model]) -> str | None:
    label = model._meta.label
    if label in REFERENCE_TABLES:
        return REFERENCE
    if label in COORDINATOR_TABLES:
        return COORDINATOR
    if carries_dealer(model) or (label, "no dealer") in KNOWN_EXCEPTIONS:
        return OWNED  # an excepted table is judged as the dealer-owned table it will be
    return None


def breaches(every_model: list[type[models.Model]]) -> dict[tuple[str, str], str]:
    """{(model label, what): why} for every breach of the rules among `every_model`."""
    found: dict[tuple[str, str], str] = {}
    for model in every_model:
        label, kind = model._meta.label, kind_of(model)
        if kind is None or (kind == OWNED and not carries_dealer(model)):
            found[label, "no dealer"] = (
                "has no dealer column: give it one, or list it in dcc/distribution.py as a "
                "reference or coordinator table, with the reason"
            )
        if kind == OWNED and carries_dealer(model):
            uniques = [
                tuple(c.fields) or (str(c.name),)
                for c in model._meta.constraints
                if isinstance(c, models.UniqueConstraint)
            ]
            uniques += [tuple(fields) for fields in model._meta.unique_together]
            uniques += [
                (field.name,)
                for field in model._meta.concrete_fields
                if field.unique and not field.primary_key
            ]
            for fields in uniques:
                if "dealer" not in fields:
                    found[label, "unique:" + ",".join(fields)] = (
                        "a unique constraint without the dealer cannot be checked by one worker: "
                        "add the dealer to it"
                    )
        for field in model._meta.concrete_fields:
            if not field.is_relation:
                continue
            target = kind_of(field.related_model)
            if kind == OWNED and target == COORDINATOR:
                found[label, f"fk:{field.name}"] = (
                    "a dealer-owned row cannot point at a row kept on the coordinator"
                )
            if kind in (REFERENCE, COORDINATOR) and target == OWNED:
                found[label, f"fk:{field.name}"] = (
                    f"a {kind} table cannot point at a dealer-owned row (it lives on one worker)"
                )
    return found


def every_model() -> list[type[models.Model]]:
    return list(apps.get_models(include_auto_created=True))


def test_every_table_is_ready_to_distribute_by_dealer():
    found = breaches(every_model())
    new = {key: why for key, why in found.items() if key not in KNOWN_EXCEPTIONS}
    assert not new, "Not ready to distribute by dealer (dcc/distribution.py, docs/scale.md):\n" + (
        "\n".join(f"  {label} {what}: {why}" for (label, what), why in sorted(new.items()))
    )


def test_the_lists_name_only_what_is_there():
    """A table listed twice, or gone, or an exception that no longer applies: the lists stay
    the truth."""
    labels = {model._meta.label for model in every_model()}
    assert not REFERENCE_TABLES.keys() & COORDINATOR_TABLES.keys()
    assert (REFERENCE_TABLES.keys() | COORDINATOR_TABLES.keys()) <= labels
    assert set(KNOWN_EXCEPTIONS) <= set(breaches(every_model())), (
        "fixed, so remove from KNOWN_EXCEPTIONS: "
        f"{sorted(set(KNOWN_EXCEPTIONS) - set(breaches(every_model())))}"
    )


@isolate_apps("tests")
def test_a_new_table_that_breaks_the_rules_is_named():
    from accounts.models import Dealer, Staff

    class Note(models.Model):  # no dealer, not listed
        text = models.TextField()

        class Meta:
            app_label = "tests"

    class Sticker(models.Model):
        dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE)
        code = models.CharField(max_length=8, unique=True)
        by = models.ForeignKey(Staff, on_delete=models.CASCADE)  # a reference table: fine
        note = models.ForeignKey(Note, on_delete=models.CASCADE)

        class Meta:
            app_label = "tests"
            constraints = [models.UniqueConstraint(fields=["note", "by"], name="sticker_uniq")]

    class Visit(models.Model):
        dealer = models.ForeignKey(Dealer, on_delete=models.CASCADE)
        sticker = models.ForeignKey(Sticker, on_delete=models.CASCADE)

        class Meta:
            app_label = "tests"
            constraints = [models.UniqueConstraint(fields=["sticker", "dealer"], name="visit_uniq")]

    assert set(breaches([Note, Sticker, Visit])) == {
        ("tests.Note", "no dealer"),
        ("tests.Sticker", "unique:code"),
        ("tests.Sticker", "unique:note,by"),
    }


# -- the queries of one dealer's pages ------------------------------------------------------

DEALER_FILTER = re.compile(r'"dealer_id" = (\d+)|"dealer_id" IN \(([\d, ]+)\)')
TABLE_USE = re.compile(r'(?:FROM|JOIN) "(\w+)"(?: (\w+))?')


def dealers_named(sql: str) -> set[int]:
    named = set()
    for one, many in DEALER_FILTER.findall(sql):
        named |= {int(one)} if one else {int(n) for n in many.split(",")}
    return named


def unrouted(sql: str, owned_tables: set[str]) -> list[str]:
    """The dealer-owned tables (or their aliases) of a query that carry no dealer filter of
    their own: Citus could not send the query to one worker for them."""
    missing = []
    for table, alias in TABLE_USE.findall(sql):
        if table not in owned_tables:
            continue
        name = alias if alias and alias not in {"ON", "WHERE", "INNER", "LEFT"} else table
        if not re.search(rf'"?{name}"?\."dealer_id" (=|IN) ', sql):
            missing.append(name)
    return missing


@pytest.mark.django_db
@pytest.mark.usefixtures("office_hours")
def test_a_dealers_pages_stay_within_the_dealer_routing_query_counts(team: Team, other_team: Team):
    leads = working_day(team)
    for _ in range(3):  # the other dealer has leads too: a page of ours must not reach them
        make_lead(other_team.dealer, by=other_team.dcc_agent)
    owned_tables = {m._meta.db_table for m in every_model() if kind_of(m) == OWNED}
    aggregates = {apps.get_model(label)._meta.db_table for label in CROSS_DEALER_READS}
    pages = {
        "queue (DCC agent)": (team.dcc_agent, "/queue/"),
        "lead page (GM)": (team.gm, f"/leads/{leads['arrived']}/"),
        "lead list (GM)": (team.gm, "/leads/"),
        "showroom (showroom manager)": (team.showroom_manager, "/showroom/"),
        "team board (DCC supervisor)": (team.dcc_supervisor, "/team/"),
        "dashboard (GM)": (team.gm, "/dashboard/"),
        "scorecard (DCC agent)": (team.dcc_agent, "/dashboard/scores/mine/"),
    }
    measured, elsewhere = {}, []
    for name, (person, path) in pages.items():
        client = login(person)
        client.get(path)  # what is filled once (the session) is not the page's
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
        sqls = [query["sql"] for query in captured.captured_queries]
        elsewhere += [
            f"{name}: {sql[:300]}"
            for sql in sqls
            if dealers_named(sql) - {team.dealer.pk}
            and {t for t, _alias in TABLE_USE.findall(sql)} & owned_tables - aggregates
        ]
        measured[name] = sum(1 for sql in sqls if unrouted(sql, owned_tables))
    assert not elsewhere, "Queries of one dealer's page that read another dealer's rows:\n" + (
        "\n".join(elsewhere)
    )
    check_query_counts(ROUTING_BASELINE, measured)
