"""Every existing dealer gets its default teams from the roles its people hold: the DCC agents
and supervisor in a DCC invitation group led by the supervisor, the consultants and showroom
manager in a showroom group led by the showroom manager (as leads.teams.set_up_teams does for
a new dealer). They count in them for all their history so far."""

from datetime import UTC, datetime

from django.db import migrations

FROM_THE_START = datetime(2000, 1, 1, tzinfo=UTC)
DEFAULT_TEAMS = [
    ("dcc", "DCC invitation group", "dcc_supervisor", ("dcc_supervisor", "dcc_agent")),
    ("showroom", "Showroom group", "showroom_manager", ("showroom_manager", "consultant")),
]


def default_teams(apps, schema_editor):
    Dealer = apps.get_model("accounts", "Dealer")
    Membership = apps.get_model("accounts", "Membership")
    Team = apps.get_model("leads", "Team")
    TeamMembership = apps.get_model("leads", "TeamMembership")
    for dealer in Dealer.objects.all():
        placed = set(
            TeamMembership.objects.filter(dealer=dealer, ends_at__isnull=True).values_list(
                "staff_id", flat=True
            )
        )
        holders = {}
        for staff_id, role in (
            Membership.objects.filter(dealer=dealer, is_active=True, staff__is_active=True)
            .order_by("staff_id")
            .values_list("staff_id", "role")
        ):
            holders.setdefault(role, []).append(staff_id)
        for kind, name, leader_role, roles in DEFAULT_TEAMS:
            team = Team.objects.filter(dealer=dealer, kind=kind).order_by("pk").first()
            if team is None:
                leader = (holders.get(leader_role) or [None])[0]
                team = Team.objects.create(dealer=dealer, kind=kind, name=name, leader_id=leader)
            for role in roles:
                for staff_id in holders.get(role, []):
                    if staff_id not in placed:
                        TeamMembership.objects.create(
                            dealer=dealer, team=team, staff_id=staff_id, starts_at=FROM_THE_START
                        )
                        placed.add(staff_id)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_horizon_and_lockout"),
        ("leads", "0010_teams"),
    ]

    operations = [migrations.RunPython(default_teams, migrations.RunPython.noop)]
