"""Background work of the call center, run by the task worker."""

from __future__ import annotations

from django_tasks import task

from calls import recordings
from calls.models import Recording


@task()
def fetch_recording_task(recording_id: int) -> str:
    """Copy a recording into our storage while the provider's address still works."""
    recording = Recording.objects.select_related("call").filter(pk=recording_id).first()
    if recording is None:
        return "missing"
    try:
        recordings.fetch(recording, hosts=recordings.recording_hosts(recording.call))
    except recordings.RecordingUnavailable as error:
        return f"unavailable: {error}"
    return "fetched"
