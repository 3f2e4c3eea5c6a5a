"""CloudFormation through change sets: create, look, execute (or skip), wait.

A change set with nothing in it is how CloudFormation says "no change": it ends FAILED
with "The submitted information didn't contain changes" (or, from some
implementations, create_change_set itself refuses with "No updates are to be
performed"). Both mean: delete the change set, keep the stack, carry on.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
# CloudFormation takes at most 51,200 bytes inline; larger templates go through S3.
MAX_TEMPLATE_BODY = 51_200
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
BUSY = "_IN_PROGRESS"
FAILED_RESOURCE = ("CREATE_FAILED", "UPDATE_FAILED", "DELETE_FAILED")


class StackError(Exception):
    """What went wrong, in CloudFormation's words (the first failed resource)."""


@dataclass
class StackState:
    name: str
    status: str
    outputs: dict[str, str]
    parameters: dict[str, str]


@dataclass
class Change:
    action: str  # Add, Modify, Remove, Import, Dynamic
    logical_id: str
    resource_type: str
    replacement: str = ""

    def line(self) -> str:
        extra = " (replaced)" if self.replacement == "True" else " (may be replaced)" \
            if self.replacement == "Conditional" else ""
        sign = {"Add": "+", "Remove": "-", "Modify": "~"}.get(self.action, "?")
        return f"{sign} {self.logical_id} {self.resource_type}{extra}"


@dataclass
class Result:
    outcome: str  # created, updated, unchanged, planned
    outputs: dict[str, str] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)


def describe(cf: Any, name: str) -> StackState | None:
    try:
        stacks = cf.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in error.response["Error"].get("Message", ""):
            return None
        raise
    stack = stacks[0]
    if stack["StackStatus"] == "DELETE_COMPLETE":  # some implementations still list it
        return None
    return StackState(
        name=name,
        status=stack["StackStatus"],
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])},
    )


class Poller:
    """Waits on CloudFormation's own status, every `delay` seconds, up to `timeout`."""

    def __init__(self, delay: float = 5.0, timeout: float = 3600.0, sleep: Callable[[float], None] = time.sleep):
        self.delay, self.timeout, self.sleep = delay, timeout, sleep

    def until(self, read: Callable[[], Any], done: Callable[[Any], bool], what: str) -> Any:
        deadline = time.monotonic() + self.timeout
        while True:
            value = read()
            if done(value):
                return value
            if time.monotonic() > deadline:
                raise StackError(f"gave up waiting for {what} after {self.timeout:.0f} s")
            self.sleep(self.delay)


def first_failure(cf: Any, name: str) -> str:
    """The earliest failed resource event of the latest operation, as a sentence."""
    events = cf.describe_stack_events(StackName=name).get("StackEvents", [])
    failed = [e for e in events if e.get("ResourceStatus") in FAILED_RESOURCE and e.get("ResourceStatusReason")]
    if not failed:
        return "no resource reported a reason (see the stack's events in the console)"
    event = failed[-1]  # events come newest first: the last failure listed is the first that happened
    return f"{event['LogicalResourceId']} ({event.get('ResourceType', '?')}): {event['ResourceStatusReason']}"


def _wait_stack(cf: Any, name: str, poller: Poller) -> StackState | None:
    def read() -> StackState | None:
        return describe(cf, name)

    return poller.until(read, lambda s: s is None or not s.status.endswith(BUSY), f"stack {name}")


def _changes(cf: Any, change_set_id: str, name: str, first: dict[str, Any]) -> list[Change]:
    found: list[Change] = []
    page = first
    while True:
        for item in page.get("Changes", []):
            rc = item.get("ResourceChange", {})
            found.append(Change(rc.get("Action", "?"), rc.get("LogicalResourceId", "?"),
                                rc.get("ResourceType", "?"), rc.get("Replacement", "")))
        token = page.get("NextToken")
        if not token:
            return found
        page = cf.describe_change_set(ChangeSetName=change_set_id, StackName=name, NextToken=token)


def _is_no_change(text: str) -> bool:
    return any(marker in text for marker in NO_CHANGES)


def prepare(cf: Any, name: str, current: StackState | None, *, template: dict[str, str],
            parameters: dict[str, str], tags: dict[str, str], poller: Poller) -> tuple[str | None, list[Change]]:
    """Create a change set and wait for it. Returns (change set id, changes), or
    (None, []) when there is nothing to change (the empty change set is deleted)."""
    kind = "CREATE" if current is None or current.status == "REVIEW_IN_PROGRESS" else "UPDATE"
    try:
        created = cf.create_change_set(
            StackName=name,
            ChangeSetName=f"deploy-{uuid.uuid4().hex[:12]}",
            ChangeSetType=kind,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(parameters.items())],
            Capabilities=CAPABILITIES,
            Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())],
            **template,
        )
    except ClientError as error:
        if _is_no_change(error.response["Error"].get("Message", "")):
            return None, []
        raise StackError(error.response["Error"].get("Message", str(error))) from error
    change_set = created["Id"]
    described = poller.until(
        lambda: cf.describe_change_set(ChangeSetName=change_set, StackName=name),
        lambda d: d["Status"] in ("CREATE_COMPLETE", "FAILED"),
        f"change set of {name}",
    )
    if described["Status"] == "FAILED":
        reason = described.get("StatusReason", "")
        cf.delete_change_set(ChangeSetName=change_set, StackName=name)
        if _is_no_change(reason):
            return None, []
        raise StackError(f"change set failed: {reason}")
    return change_set, _changes(cf, change_set, name, described)


def deploy(cf: Any, name: str, *, template: dict[str, str], parameters: dict[str, str], tags: dict[str, str],
           poller: Poller, on_changes: Callable[[list[Change]], None] = lambda _c: None) -> Result:
    """Bring stack `name` to `template` + `parameters`. A stack a failed first create
    left behind (ROLLBACK_COMPLETE) is deleted first, so a rerun continues."""
    current = describe(cf, name)
    if current is not None and current.status.endswith(BUSY) and current.status != "REVIEW_IN_PROGRESS":
        # An earlier run was interrupted (Ctrl-C does not stop CloudFormation): let it finish.
        current = _wait_stack(cf, name, poller)
    if current is not None and current.status == "ROLLBACK_COMPLETE":
        cf.delete_stack(StackName=name)
        current = _wait_stack(cf, name, poller)
        if current is not None:
            raise StackError(f"could not delete the failed stack ({current.status}): {first_failure(cf, name)}")
    if current is not None and current.status in ("UPDATE_ROLLBACK_FAILED", "DELETE_FAILED"):
        raise StackError(f"the stack is {current.status}; fix it in the CloudFormation console "
                         f"(continue rollback / delete) and run again: {first_failure(cf, name)}")
    change_set, changes = prepare(cf, name, current, template=template, parameters=parameters, tags=tags,
                                  poller=poller)
    if change_set is None:
        assert current is not None  # a new stack always has changes
        return Result("unchanged", current.outputs)
    on_changes(changes)
    creating = current is None or current.status == "REVIEW_IN_PROGRESS"
    cf.execute_change_set(ChangeSetName=change_set, StackName=name)
    final = _wait_stack(cf, name, poller)
    if final is None or final.status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        status = final.status if final else "DELETED"
        raise StackError(f"{status}: {first_failure(cf, name)}")
    return Result("created" if creating else "updated", final.outputs, changes)


def plan(cf: Any, name: str, current: StackState, *, template: dict[str, str], parameters: dict[str, str],
         tags: dict[str, str], poller: Poller) -> Result:
    """The changes an update would make, without making them (the change set is deleted)."""
    change_set, changes = prepare(cf, name, current, template=template, parameters=parameters, tags=tags,
                                  poller=poller)
    if change_set is None:
        return Result("unchanged", current.outputs)
    cf.delete_change_set(ChangeSetName=change_set, StackName=name)
    return Result("planned", current.outputs, changes)


def delete(cf: Any, name: str, poller: Poller) -> bool:
    """Delete the stack; False when there was none."""
    current = describe(cf, name)
    if current is None:
        return False
    cf.delete_stack(StackName=name)
    final = _wait_stack(cf, name, poller)
    if final is not None:
        raise StackError(f"{final.status}: {first_failure(cf, name)}")
    return True
