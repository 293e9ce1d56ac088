"""How DCC's tables go onto PostgreSQL distributed by dealer (Citus): the one list of them.

A table with a `dealer` column is dealer-owned: distributed by `dealer_id`, every dealer-owned
table co-located with every other, so that one dealer's rows of all of them sit on one worker
and a dealer's page is answered by that worker alone. Every other table must be listed here,
with its reason: a reference table (copied to every worker, joinable with dealer-owned rows)
or a coordinator table (kept on the coordinator, never joined with dealer-owned rows).

tests/test_citus_ready.py holds every model to these rules; KNOWN_EXCEPTIONS names the places
that break them today, each with what distribution would take. docs/scale.md has the plan.
Model labels are strings: the kernel imports no app.
"""

from __future__ import annotations

DISTRIBUTION_COLUMN = "dealer_id"

# Copied whole to every worker. Small, read with every dealer's rows, written rarely.
REFERENCE_TABLES: dict[str, str] = {
    "accounts.Brand": "a carmaker's few brands; every dealer's dashboards compare within one",
    "accounts.Region": "a brand's regions; headquarters' views group dealers by them",
    "accounts.Dealer": "the tenants themselves: thousands of rows, joined with everything",
    "accounts.Staff": (
        "people can work for several dealers (headquarters for hundreds); every dealer-owned "
        "row names its actor, owner or assignee"
    ),
    "accounts.Membership": (
        "who holds which role where: read on every request, by person across dealers (a "
        "headquarters user's granted dealers), so not split by dealer although it names one"
    ),
    "accounts.Staff_groups": "Django's permission groups of a person (unused by DCC's roles)",
    "accounts.Staff_user_permissions": "Django's permissions of a person (unused by DCC's roles)",
    "auth.Group": "Django's permission groups (unused by DCC's roles)",
    "auth.Group_permissions": "Django's permissions of a group (unused by DCC's roles)",
    "auth.Permission": "Django's permission catalogue, the same everywhere",
    "contenttypes.ContentType": "Django's catalogue of models, the same everywhere",
}

# Kept on the coordinator only: looked up by their own key before any dealer is known, and
# never joined with dealer-owned rows.
COORDINATOR_TABLES: dict[str, str] = {
    "sessions.Session": "signed-in sessions, found by their key on every request",
    "accounts.Lockout": "sign-in throttling, counted by account and address, not by dealer",
    "accounts.ApiToken": "bearer tokens, found by their digest before the dealer is known",
    "django_tasks_database.DBTaskResult": (
        "the background work queue (imports); its workers claim tasks across dealers"
    ),
}

# Where today's models break the rules, each with what distributing them would take. Keys:
# ("app.Model", "no dealer") for a table without the dealer column, ("app.Model", "unique:
# f1,f2") for a unique constraint or field without it. The test fails on any other breach,
# and on an entry here that no longer applies.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("leads.AssignmentRule_members", "no dealer"): (
        "Django's automatic many-to-many table of a rule's people; distributing it takes an "
        "explicit through model carrying the rule's dealer"
    ),
    ("calls.Seat", "no dealer"): (
        "a phone account's seats; needs the account's dealer copied onto each seat (the "
        "seat-to-person mapping is read per call push, already inside one dealer)"
    ),
    ("calls.Recording", "no dealer"): (
        "a call's recordings; needs the call's dealer copied onto each recording"
    ),
    ("audit.CheckItem", "no dealer"): (
        "an audit form's check items; needs the form's dealer copied onto each item"
    ),
    ("leads.Lead", "unique:customer"): (
        "one open lead per customer: the customer belongs to one dealer, so adding the dealer "
        "keeps its meaning; left to the migration that distributes the leads' tables"
    ),
    ("leads.Event", "unique:lead,seq"): (
        "a lead's chain position: the lead belongs to one dealer; widened with the dealer when "
        "the ledger's tables are distributed (the ledger's own migrations, not this one)"
    ),
    ("leads.IdempotencyKey", "unique:staff,key"): (
        "a person's retried request: people work for several dealers, so the key becomes per "
        "person and dealer, and an API client retrying at another dealer is a new request"
    ),
    ("calls.PhoneAccount", "unique:push_key"): (
        "the phone provider pushes to an address holding only this key: a small reference "
        "table (push key → dealer) routes the push to the dealer's worker"
    ),
    ("owners.Referral", "unique:lead"): (
        "one referral per lead (a one-to-one field): becomes unique on (lead, dealer)"
    ),
    ("audit.Audit", "unique:task"): (
        "one audit per task (a one-to-one field): becomes unique on (task, dealer)"
    ),
    ("audit.Appeal", "unique:audit"): (
        "one appeal per audit (a one-to-one field): becomes unique on (audit, dealer)"
    ),
    ("owners.Invitation", "unique:code"): (
        "the QR code scanned at an owner event's door, looked up before the dealer is known: "
        "a reference table (code → dealer) routes the check-in, as for phone pushes"
    ),
    ("campaigns.CaptureCode", "unique:code"): (
        "a capture page's public code, looked up before the dealer is known: a reference table "
        "(code → dealer) routes the page"
    ),
    ("campaigns.CaptureCode", "unique:campaign,staff"): (
        "one code per person and campaign: the campaign belongs to one dealer; add the dealer"
    ),
    ("campaigns.CaptureCode", "unique:campaign"): (
        "one campaign-wide code: the campaign belongs to one dealer; add the dealer"
    ),
    ("campaigns.CampaignLead", "unique:lead"): (
        "one campaign credited per lead (a one-to-one field): unique on (lead, dealer)"
    ),
    ("campaigns.CampaignLead", "unique:call"): (
        "one lead credited per call (a one-to-one field): unique on (call, dealer)"
    ),
    ("campaigns.CampaignTouch", "unique:call"): (
        "one repeat enquiry per call (a one-to-one field): unique on (call, dealer)"
    ),
    ("campaigns.SubsidyEnrolment", "unique:campaign,member"): (
        "a member's enrolment in a subsidy: both belong to one dealer; add the dealer"
    ),
    ("campaigns.SubsidyMonth", "unique:enrolment,month"): (
        "a subsidy's monthly check: the enrolment belongs to one dealer; add the dealer"
    ),
    ("sms.SmsSettings", "unique:push_token"): (
        "the SMS provider's delivery reports arrive with only this token: routed through a "
        "reference table (token → dealer), as for phone pushes"
    ),
}

# Dealer-owned tables that a page of one dealer may read across dealers: aggregates run on
# every worker in parallel and summed on the coordinator, as headquarters' views are.
CROSS_DEALER_READS: dict[str, str] = {
    "leads.DailyTally": (
        "a dealer's dashboard sets its figures against its brand's: the brand's dealers' "
        "daily tallies, summed (a few rows per dealer and day)"
    ),
}
