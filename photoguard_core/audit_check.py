"""Verifying a catalogue's audit log: the hash chain and the sealed head together."""

from __future__ import annotations

from photoguard_core.audit import ChainReport, check_seal, verify_chain
from photoguard_core.context import Context


def verify_audit(ctx: Context) -> ChainReport:
    """Check the catalogue's audit chain against its head, sealed with the master key.

    A head whose seal does not match was edited; without a head, truncation at the
    tail could not be seen, so its absence is itself reported.
    """
    entries = ctx.store.audit_entries()
    head_record = ctx.store.audit_head()
    head = None
    problems = []
    if head_record is not None:
        if check_seal(ctx.master, head_record["seq"], head_record["hash"], head_record["seal"]):
            head = (head_record["seq"], head_record["hash"])
        else:
            problems.append("the sealed head does not match the master key: the head was edited")
    elif entries:
        problems.append("no sealed head recorded")
    result = verify_chain(entries, head=head)
    if problems:
        result.ok = False
        result.problems = problems + list(result.problems)
    return result
