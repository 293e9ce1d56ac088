"""Checkpoints of the ledger: what anchors the hash chains outside the database.

A chain alone proves nothing to someone who can rewrite it whole: edit an event and recompute
every hash after it, or delete a lead's last events and set its recorded head back. So once a
day (`dcc tick`, or `dcc ledger checkpoint` at any time) each dealer's chain heads are taken,
(lead, last seq, head hash) for every lead, and anchored: a Merkle root over them, chained to
the dealer's previous checkpoint and signed with a key that is not in the database
(leads.signing). `verify` checks the checkpoints (chain, signatures, the latest root) and then
that every lead's chain still holds every head a checkpoint saw, naming the leads whose events
were deleted or rewritten since. Exported as JSON lines, checkpoints can be kept elsewhere
(headquarters), where deleting the newest ones from the database is seen too (`--against`).

Only the heads that changed since the dealer's previous checkpoint are stored (CheckpointHead;
seq 0: the lead was gone); replaying them in order gives every checkpoint's leaves.

Erasure blanks notes under their seals and appends an `erased` event: heads move on, hashes
before them stay, so checkpoints verify after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Dealer
from leads import ledger, signing, tallies
from leads.models import Checkpoint, CheckpointHead, Lead

# One a day per dealer: the first `dcc tick` after local midnight (TIME_ZONE) takes it.
PERIOD = timedelta(days=1)
# `verify` reports a dealer whose newest checkpoint is older than this (the tick stopped, or
# the newest checkpoints were deleted).
STALE_AFTER = 2 * PERIOD

Leaf = tuple[int, int, str]  # lead id, last seq, head hash


def leaf_hash(lead_id: int, seq: int, head: str) -> bytes:
    return hashlib.sha256(b"\x00" + f"{lead_id}:{seq}:{head}".encode()).digest()


def merkle_root(leaves: Iterable[Leaf]) -> str:
    """The root over `leaves` sorted by lead: leaves and inner nodes hashed apart (0x00, 0x01
    before them); an odd node out goes up a level as it is."""
    level = [leaf_hash(*leaf) for leaf in sorted(leaves)]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    sha256 = hashlib.sha256
    while len(level) > 1:
        up = [
            sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            up.append(level[-1])
        level = up
    return level[0].hex()


def checkpoint_digest(
    *,
    dealer_id: int,
    seq: int,
    taken_at: datetime,
    leaf_count: int,
    root: str,
    algorithm: str,
    key_id: str,
    prev_hash: str,
    **_signed_apart: Any,  # hash, signature, dealer code
) -> str:
    """SHA-256 over a canonical JSON of what a checkpoint says, chained to the previous; the
    signature is over this hash."""
    body = ledger.CANONICAL_JSON(
        [
            dealer_id,
            seq,
            taken_at.astimezone(UTC).isoformat(timespec="microseconds"),
            leaf_count,
            root,
            algorithm,
            key_id,
            prev_hash,
        ]
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _digest_of(checkpoint: Checkpoint) -> str:
    return checkpoint_digest(
        dealer_id=checkpoint.dealer_id,
        seq=checkpoint.seq,
        taken_at=checkpoint.taken_at,
        leaf_count=checkpoint.leaf_count,
        root=checkpoint.root,
        algorithm=checkpoint.algorithm,
        key_id=checkpoint.key_id,
        prev_hash=checkpoint.prev_hash,
    )


def _replay(dealer_id: int) -> Iterator[tuple[int, list[tuple[int, int, str]]]]:
    """Each stored checkpoint id of the dealer with its changed heads, in checkpoint order."""
    rows = (
        CheckpointHead.objects.filter(checkpoint__dealer_id=dealer_id)
        .order_by("checkpoint__seq", "lead_id")
        .values_list("checkpoint_id", "lead_id", "seq", "hash")
    )
    current: int | None = None
    changed: list[tuple[int, int, str]] = []
    for checkpoint_id, lead_id, seq, head in rows.iterator(chunk_size=5000):
        if checkpoint_id != current:
            if current is not None:
                yield current, changed
            current, changed = checkpoint_id, []
        changed.append((lead_id, seq, head))
    if current is not None:
        yield current, changed


def _leaves_now(dealer_id: int) -> dict[int, tuple[int, str]]:
    """Every lead's chain head as the leads record it: one query, no events read."""
    rows = (
        Lead.objects.filter(dealer_id=dealer_id, last_event_seq__gt=0)
        .values_list("pk", "last_event_seq", "last_event_hash")
        .iterator(chunk_size=10_000)
    )
    return {lead_id: (seq, head) for lead_id, seq, head in rows}


@dataclass
class Made:
    checkpoint: Checkpoint
    changed: int  # heads stored (changed since the previous checkpoint)
    # Leads whose head went back or changed in place since the previous checkpoint: tampering
    # that `verify` names too; the checkpoint is taken all the same, for every other lead.
    regressions: list[str]


def make(dealer_id: int, *, now: datetime | None = None) -> Made:
    """Take and sign the dealer's checkpoint now."""
    now = now or timezone.now()
    signer = signing.signer()
    with transaction.atomic():
        # One checkpoint at a time per dealer (two ticks at once would both take #n).
        # NO KEY: new leads and events (foreign keys to the dealer) are not held up meanwhile.
        list(Dealer.objects.select_for_update(no_key=True).filter(pk=dealer_id).values_list("pk"))
        previous = Checkpoint.objects.filter(dealer_id=dealer_id).order_by("-seq").first()
        known: dict[int, tuple[int, str]] = {}
        for _checkpoint_id, changed in _replay(dealer_id):
            for lead_id, seq, head in changed:
                if seq:
                    known[lead_id] = (seq, head)
                else:
                    known.pop(lead_id, None)
        now_heads = _leaves_now(dealer_id)
        regressions = []
        heads: list[tuple[int, int, str]] = []
        for lead_id, (seq, head) in known.items():
            current = now_heads.get(lead_id)
            if current is None:
                regressions.append(f"lead {lead_id}: gone (was at event #{seq})")
                heads.append((lead_id, 0, ""))
            elif current[0] < seq or (current[0] == seq and current[1] != head):
                regressions.append(f"lead {lead_id}: head went from #{seq} to #{current[0]}")
        for lead_id, (seq, head) in now_heads.items():
            if known.get(lead_id) != (seq, head):
                heads.append((lead_id, seq, head))
        values: dict[str, Any] = dict(
            dealer_id=dealer_id,
            seq=previous.seq + 1 if previous else 1,
            taken_at=now,
            leaf_count=len(now_heads),
            root=merkle_root((lead, seq, head) for lead, (seq, head) in now_heads.items()),
            algorithm=signer.algorithm,
            key_id=signer.key_id,
            prev_hash=previous.hash if previous else ledger.GENESIS,
        )
        values["hash"] = checkpoint_digest(**values)
        values["signature"] = signer.sign(values["hash"].encode())
        checkpoint = Checkpoint.objects.create(**values)
        CheckpointHead.objects.bulk_create(
            (
                CheckpointHead(
                    dealer_id=checkpoint.dealer_id,
                    checkpoint=checkpoint,
                    lead_id=lead_id,
                    seq=seq,
                    hash=head,
                )
                for lead_id, seq, head in sorted(heads)
            ),
            batch_size=5000,
        )
    return Made(checkpoint, len(heads), sorted(regressions))


def make_due(*, now: datetime | None = None, every: bool = False) -> list[Made]:
    """The day's checkpoint of every dealer with leads (or checkpoints) that has none taken
    today yet (`dcc tick`); `every`: of each of them, now (`dcc ledger checkpoint`)."""
    now = now or timezone.now()
    start = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
    dealer_ids = set(Lead.objects.values_list("dealer_id", flat=True).distinct())
    dealer_ids |= set(Checkpoint.objects.values_list("dealer_id", flat=True).distinct())
    if not every:
        dealer_ids -= set(
            Checkpoint.objects.filter(taken_at__gte=start).values_list("dealer_id", flat=True)
        )
    return [make(dealer_id, now=now) for dealer_id in sorted(dealer_ids)]


# ---------------------------------------------------------------- checking


def _check_dealer(
    dealer: Dealer,
    checkpoints: list[Checkpoint],
    checker: signing.Checker,
    report: ledger.VerifyReport,
    anchors: dict[int, list[ledger.Anchor]],
    now: datetime,
) -> None:
    """The dealer's checkpoints, chained and signed, and the heads they saw (into `anchors`)."""
    problems = report.checkpoint_problems
    name = f"dealer {dealer.code}"
    prev_hash, expected_seq = ledger.GENESIS, 1
    for checkpoint in checkpoints:
        where = f"{name}, checkpoint #{checkpoint.seq}"
        if checkpoint.seq != expected_seq:
            problems.append(f"{name}: checkpoints #{expected_seq}–#{checkpoint.seq - 1} missing")
        elif checkpoint.prev_hash != prev_hash:
            problems.append(f"{where}: does not follow checkpoint #{checkpoint.seq - 1}")
        if _digest_of(checkpoint) != checkpoint.hash:
            problems.append(f"{where}: content does not match its hash")
        signed = checker.check(
            algorithm=checkpoint.algorithm,
            key_id=checkpoint.key_id,
            message=checkpoint.hash.encode(),
            signature=checkpoint.signature,
        )
        if signed is False:
            problems.append(f"{where}: signature invalid (key {checkpoint.key_id})")
        elif signed is None and checkpoint is checkpoints[-1]:
            # Older ones are vouched for by the newest, whose signed hash chains to them.
            problems.append(
                f"{where}: signed with key {checkpoint.key_id}, which is not configured here"
            )
        else:
            report.checkpoints += signed is True
        prev_hash, expected_seq = checkpoint.hash, checkpoint.seq + 1

    by_id = {checkpoint.pk: checkpoint for checkpoint in checkpoints}
    leaves: dict[int, tuple[int, str]] = {}
    for checkpoint_id, changed in _replay(dealer.pk):
        checkpoint = by_id[checkpoint_id]
        for lead_id, seq, head in changed:
            if seq:
                leaves[lead_id] = (seq, head)
                anchors.setdefault(lead_id, []).append(
                    ledger.Anchor(seq, head, checkpoint.seq, checkpoint.taken_at)
                )
            else:
                leaves.pop(lead_id, None)
    latest = checkpoints[-1]
    root = merkle_root((lead, seq, head) for lead, (seq, head) in leaves.items())
    if root != latest.root or len(leaves) != latest.leaf_count:
        problems.append(
            f"{name}, checkpoint #{latest.seq}: the heads kept do not give its signed root"
        )
    if now - latest.taken_at > STALE_AFTER:
        problems.append(
            f"{name}: no checkpoint since #{latest.seq} of {latest.taken_at:%Y-%m-%d} "
            f"(one is taken daily: is `dcc tick` running, or were newer ones deleted?)"
        )


def verify(*, dealer_id: int | None = None, now: datetime | None = None) -> ledger.VerifyReport:
    """Check the checkpoints, then every chain against them (leads.ledger.verify)."""
    now = now or timezone.now()
    checker = signing.Checker()
    anchors: dict[int, list[ledger.Anchor]] = {}
    found = ledger.VerifyReport()
    # Checkpoints first, chains after: a checkpoint taken meanwhile is not seen, and events
    # written meanwhile only append to what the checkpoints saw.
    with tallies.read_snapshot():
        checkpoints = Checkpoint.objects.select_related("dealer").order_by("dealer_id", "seq")
        if dealer_id is not None:
            checkpoints = checkpoints.filter(dealer_id=dealer_id)
        by_dealer: dict[int, list[Checkpoint]] = {}
        for checkpoint in checkpoints:
            by_dealer.setdefault(checkpoint.dealer_id, []).append(checkpoint)
        for taken in by_dealer.values():
            _check_dealer(taken[0].dealer, taken, checker, found, anchors, now)
    for saw in anchors.values():
        saw.sort(key=lambda anchor: anchor.seq)
    report = ledger.verify(dealer_id=dealer_id, anchors=anchors)
    report.checkpoints, report.checkpoint_problems = found.checkpoints, found.checkpoint_problems
    return report


# ---------------------------------------------------------------- export


def exported(checkpoint: Checkpoint) -> dict[str, Any]:
    """A checkpoint as a line of the export: all that is needed to recompute its hash and
    check its signature elsewhere."""
    return {
        "dealer": checkpoint.dealer.code,
        "dealer_id": checkpoint.dealer_id,
        "seq": checkpoint.seq,
        "taken_at": checkpoint.taken_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "leaf_count": checkpoint.leaf_count,
        "root": checkpoint.root,
        "algorithm": checkpoint.algorithm,
        "key_id": checkpoint.key_id,
        "prev_hash": checkpoint.prev_hash,
        "hash": checkpoint.hash,
        "signature": checkpoint.signature,
    }


def export_lines(dealer_id: int, *, after: int = 0) -> Iterator[str]:
    """The dealer's checkpoints after #`after`, one JSON object a line."""
    checkpoints = (
        Checkpoint.objects.filter(dealer_id=dealer_id, seq__gt=after)
        .select_related("dealer")
        .order_by("seq")
    )
    for checkpoint in checkpoints.iterator(chunk_size=1000):
        yield json.dumps(exported(checkpoint), ensure_ascii=False, sort_keys=True)


def check_export(lines: Iterable[str], *, dealer_id: int | None = None) -> list[str]:
    """What is wrong with kept export lines, by themselves (hashes, chain, signatures with
    the keys configured here) and against the database: a kept checkpoint that is no longer
    there, or no longer the same."""
    checker = signing.Checker()
    problems: list[str] = []
    previous: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        kept = json.loads(line)
        where = f"line {number} (dealer {kept['dealer']}, checkpoint #{kept['seq']})"
        if dealer_id is not None and kept["dealer_id"] != dealer_id:
            continue
        kept_at = datetime.fromisoformat(kept["taken_at"])
        if checkpoint_digest(**{**kept, "taken_at": kept_at}) != kept["hash"]:
            problems.append(f"{where}: content does not match its hash")
        before = previous.get(kept["dealer"])
        if before and before["seq"] + 1 == kept["seq"] and before["hash"] != kept["prev_hash"]:
            problems.append(f"{where}: does not follow the line before it")
        previous[kept["dealer"]] = kept
        signed = checker.check(
            algorithm=kept["algorithm"],
            key_id=kept["key_id"],
            message=kept["hash"].encode(),
            signature=kept["signature"],
        )
        if signed is False:
            problems.append(f"{where}: signature invalid")
        stored = Checkpoint.objects.filter(dealer_id=kept["dealer_id"], seq=kept["seq"]).first()
        if stored is None:
            problems.append(f"{where}: no longer in the database")
        elif stored.hash != kept["hash"] or stored.signature != kept["signature"]:
            problems.append(f"{where}: different in the database")
    return problems
