"""Run one action in the only order that survives a crash: intent on disk, then the change, then
its outcome. Shared by the runbook engine and the capacity controller."""

from __future__ import annotations

from typing import Any

from healops.errors import HealopsError
from remediation import actions
from remediation.actions import ActionContext, ActionRefused
from remediation.changes import Applied
from remediation.journal import ActionRecord, Journal


def run_journaled(journal: Journal, record: ActionRecord, ctx: ActionContext, args: dict[str, Any],
                  dry_run: bool) -> Applied:
    """Journal ``record`` as intended, run its action, settle it. A refusal (:class:`ActionRefused`)
    or a failure (:class:`HealopsError`) is settled as such and raised again."""
    journal.intend(record)  # on disk (synchronous=FULL) before anything changes
    try:
        applied = actions.call(record.action, ctx, args, dry_run)
    except ActionRefused as exc:
        journal.settle(record.action_id, "refused", str(exc))
        raise
    except HealopsError as exc:
        journal.settle(record.action_id, "error", str(exc))
        raise
    journal.settle(record.action_id, "applied", applied.summary, applied.ref, applied.revertible, applied.before)
    return applied
