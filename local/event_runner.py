"""The local event runner: EventBridge -> SQS -> the app's own handlers, in the emulator.

In AWS a rule on the custom bus sends matching events to an SQS queue and Lambda's
event source mapping invokes the Chalice `@app.on_sqs_message` handler. Locally the
emulator (moto server) does the first half itself (its EventBridge delivers to SQS
targets, and its SQS honours redrive policies); this runner plays the event source
mapping: it long-polls each queue, invokes the very same Chalice handler with a
Lambda-shaped SQS event, deletes the messages when it returns and leaves them when it
raises. SQS then redelivers them after the visibility timeout, and after
`maxReceiveCount` deliveries moves them to the dead-letter queue.

    python -m local.event_runner            # started by `make local` (local/stack.py)
    python -m local.event_runner --once     # one poll of each queue, then exit

Every line it logs is JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

log = logging.getLogger("drink_assistant.event_runner")

SOURCE = "drink-assistant.api"
MAX_RECEIVE_COUNT = 5
# Short locally, so a failed event is retried within seconds (AWS: 180 s, infra/events.yaml).
VISIBILITY_TIMEOUT_S = 5
WAIT_TIME_S = 5


@dataclass(frozen=True)
class Subscription:
    """One consumer: a rule for some detail-types, its queue, and the app's handler for it
    (the name of a Chalice `@app.on_sqs_message` function in app.py)."""

    name: str
    queue_name: str
    detail_types: tuple[str, ...]
    handler: str
    batch_size: int = 1

    @property
    def rule_name(self) -> str:
        return f"{self.queue_name}-rule"

    @property
    def dlq_name(self) -> str:
        return f"{self.queue_name}-dlq"


EVENTS_TEMPLATE = ROOT / "infra" / "events.yaml"


def _cloudformation_loader() -> Any:
    """A YAML loader that reads CloudFormation's short tags (!Sub, !GetAtt, !Ref) as
    plain values: only the rules' literal event patterns are of interest here."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def tagged(loader: Any, _suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_mapping(node)

    Loader.add_multi_constructor("!", tagged)
    return Loader


@functools.cache
def declared_detail_types(rule: str, template: Path = EVENTS_TEMPLATE) -> tuple[str, ...]:
    """The detail-types the rule `rule` (a logical id) of infra/events.yaml routes: the
    one source of truth for what each queue gets, in AWS and in the emulator."""
    import yaml

    document = yaml.load(template.read_text(), Loader=_cloudformation_loader())  # noqa: S506 (a SafeLoader)
    resource = document["Resources"][rule]
    if resource["Type"] != "AWS::Events::Rule":
        raise ValueError(f"{rule} in {template.name} is not an AWS::Events::Rule")
    pattern = resource["Properties"]["EventPattern"]
    if pattern.get("source") != [SOURCE] or set(pattern) != {"source", "detail-type"}:
        raise ValueError(f"{rule}: the runner mirrors patterns of source and detail-type only, got {pattern}")
    return tuple(pattern["detail-type"])


def subscriptions(config: Any) -> list[Subscription]:
    """Every consumer of the bus: the rules of infra/events.yaml (read from it) and
    app.py's SQS handlers."""
    return [
        Subscription(
            "photo-prompts", config.photo_prompt_queue, declared_detail_types("PhotoPromptRule"), "photo_prompt_handler"
        ),
        Subscription(
            "realtime", config.realtime_queue, declared_detail_types("RealtimeRule"), "relay_to_realtime", batch_size=10
        ),
        Subscription("pictures", config.picture_queue, declared_detail_types("PictureRule"), "picture_handler"),
    ]


@dataclass
class QueueEndpoint:
    subscription: Subscription
    queue_url: str
    queue_arn: str
    dlq_url: str


@dataclass
class Plumbing:
    bus_name: str
    queues: dict[str, QueueEndpoint] = field(default_factory=dict)


def _clients(endpoint_url: str | None, region: str) -> tuple[Any, Any, Any]:
    import boto3

    kwargs: dict[str, Any] = {"region_name": region}
    if endpoint_url:
        # The emulator takes any key; the stack process itself may have none configured.
        kwargs["endpoint_url"] = endpoint_url
        kwargs["aws_access_key_id"] = os.environ.get("AWS_ACCESS_KEY_ID", "local")
        kwargs["aws_secret_access_key"] = os.environ.get("AWS_SECRET_ACCESS_KEY", "local")
    return boto3.client("events", **kwargs), boto3.client("sqs", **kwargs), boto3.client("s3", **kwargs)


def _queue(sqs: Any, name: str, attributes: dict[str, str]) -> tuple[str, str]:
    """Create the queue, or bring an existing one's attributes up to date (idempotent)."""
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    except sqs.exceptions.QueueDoesNotExist:
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def ensure_event_plumbing(
    endpoint_url: str | None,
    *,
    bus_name: str,
    subs: Iterable[Subscription],
    region: str = "us-east-1",
    media_bucket: str = "",
    visibility_timeout_s: int = VISIBILITY_TIMEOUT_S,
    max_receive_count: int = MAX_RECEIVE_COUNT,
) -> Plumbing:
    """The bus, and per subscription a DLQ, a queue redriving to it, a rule and its
    target, in the emulator (or wherever `endpoint_url` points). Safe to run again."""
    events, sqs, s3 = _clients(endpoint_url, region)
    with contextlib.suppress(events.exceptions.ResourceAlreadyExistsException):
        events.create_event_bus(Name=bus_name)
    plumbing = Plumbing(bus_name)
    for sub in subs:
        dlq_url, dlq_arn = _queue(sqs, sub.dlq_name, {"MessageRetentionPeriod": "1209600"})
        queue_url, queue_arn = _queue(
            sqs,
            sub.queue_name,
            {
                "VisibilityTimeout": str(visibility_timeout_s),
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}),
            },
        )
        pattern = {"source": [SOURCE], "detail-type": list(sub.detail_types)}
        events.put_rule(Name=sub.rule_name, EventBusName=bus_name, EventPattern=json.dumps(pattern), State="ENABLED")
        events.put_targets(Rule=sub.rule_name, EventBusName=bus_name, Targets=[{"Id": sub.name, "Arn": queue_arn}])
        plumbing.queues[sub.name] = QueueEndpoint(sub, queue_url, queue_arn, dlq_url)
    if media_bucket:
        # The handlers write there (prompts/); whoever gets here first creates it.
        try:
            s3.head_bucket(Bucket=media_bucket)
        except s3.exceptions.ClientError:
            s3.create_bucket(Bucket=media_bucket)
    return plumbing


def lambda_sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """Received messages shaped as Lambda's SQS event source delivers them."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


class EventRunner:
    """Plays Lambda's SQS event source mapping for one queue."""

    def __init__(
        self,
        sqs: Any,
        endpoint: QueueEndpoint,
        handler: Callable[[dict[str, Any], Any], Any],
        *,
        region: str = "us-east-1",
        wait_time_s: int = WAIT_TIME_S,
        max_receive_count: int = MAX_RECEIVE_COUNT,
    ) -> None:
        self.sqs = sqs
        self.endpoint = endpoint
        self.handler = handler
        self.region = region
        self.wait_time_s = wait_time_s
        self.max_receive_count = max_receive_count
        self.succeeded = 0
        self.failed = 0
        # Called after each batch the handler took (the local stack mirrors new photos).
        self.after_success: Callable[[], Any] | None = None

    def process_once(self, wait_time_s: int | None = None) -> int:
        """One receive (long poll) and one handler invocation; returns how many messages came."""
        sub = self.endpoint.subscription
        answer = self.sqs.receive_message(
            QueueUrl=self.endpoint.queue_url,
            MaxNumberOfMessages=sub.batch_size,
            WaitTimeSeconds=self.wait_time_s if wait_time_s is None else wait_time_s,
            AttributeNames=["All"],
        )
        messages = answer.get("Messages", [])
        if not messages:
            return 0
        receives = max(int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")) for m in messages)
        started = time.perf_counter()
        try:
            self.handler(lambda_sqs_event(messages, self.endpoint.queue_arn, self.region), None)
        except Exception as exc:
            # Like Lambda: the batch stays on the queue and comes back after the visibility
            # timeout; SQS moves it to the DLQ once it has been received maxReceiveCount times.
            self.failed += len(messages)
            log.error(
                "event handler failed",
                extra={
                    "queue": sub.queue_name,
                    "handler": sub.handler,
                    "message_ids": [m["MessageId"] for m in messages],
                    "receive_count": receives,
                    "max_receive_count": self.max_receive_count,
                    "next": "dead-letter queue" if receives >= self.max_receive_count else "retry",
                    "error": f"{type(exc).__name__}: {exc}",
                },
            )
            return len(messages)
        self.sqs.delete_message_batch(
            QueueUrl=self.endpoint.queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        self.succeeded += len(messages)
        if self.after_success is not None:
            self.after_success()
        log.info(
            "event handled",
            extra={
                "queue": sub.queue_name,
                "handler": sub.handler,
                "message_ids": [m["MessageId"] for m in messages],
                "receive_count": receives,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return len(messages)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.process_once()
            except Exception:  # the emulator restarting, say: keep serving
                if stop.is_set():  # the stack is stopping the emulator along with us
                    return
                log.exception("polling failed", extra={"queue": self.endpoint.subscription.queue_name})
                stop.wait(1.0)


def app_handler(name: str) -> Callable[[dict[str, Any], Any], Any]:
    """The Chalice handler by name: exactly what Lambda would invoke."""
    import app as app_module

    return getattr(app_module, name)


def apply_stage_environment(stage: str = "local") -> None:
    """What `chalice local --stage <stage>` sets from .chalice/config.json; variables already
    in the environment win (the stack's, or e.g. BEDROCK_MODEL_ID to try a real model)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    merged = {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}
    for key, value in merged.items():
        os.environ.setdefault(key, str(value))


def stage_settings(stage: str = "local") -> Any:
    """The app's settings as the stage would see them, without changing this process's
    environment (local/stack.py builds the plumbing before the runner starts)."""
    from chalicelib.config import settings

    saved = dict(os.environ)
    try:
        apply_stage_environment(stage)
        return settings.__wrapped__()  # uncached: read the overlay now
    finally:
        os.environ.clear()
        os.environ.update(saved)


def ensure_local_plumbing(endpoint_url: str | None, stage: str = "local") -> Plumbing:
    config = stage_settings(stage)
    return ensure_event_plumbing(
        endpoint_url,
        bus_name=config.event_bus_name,
        subs=subscriptions(config),
        region=config.region,
        media_bucket=config.media_bucket,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", default="local")
    parser.add_argument("--once", action="store_true", help="poll each queue once, then exit")
    args = parser.parse_args(argv)
    apply_stage_environment(args.stage)

    from chalicelib import logs
    from chalicelib.config import settings

    logs.configure(os.environ.get("LOG_LEVEL", "INFO"))
    config = settings()
    endpoint_url = os.environ.get("AWS_ENDPOINT_URL") or None
    plumbing = ensure_local_plumbing(endpoint_url, args.stage)
    _, sqs, _ = _clients(endpoint_url, config.region)
    runners = [
        EventRunner(sqs, q, app_handler(q.subscription.handler), region=config.region) for q in plumbing.queues.values()
    ]
    mirror_dir = os.environ.get("LOCAL_MEDIA_DIR")
    if mirror_dir and config.media_bucket:
        # Photos the picture handler stores (variants, AI photos) survive a restart like uploads.
        from local.storage import mirror_new_objects

        for runner in runners:
            if runner.endpoint.subscription.name == "pictures":
                _, _, s3 = _clients(endpoint_url, config.region)
                runner.after_success = functools.partial(mirror_new_objects, s3, config.media_bucket, Path(mirror_dir))
    log.info(
        "event runner started",
        extra={"bus": plumbing.bus_name, "queues": [q.subscription.queue_name for q in plumbing.queues.values()]},
    )
    if args.once:
        for runner in runners:
            runner.process_once(wait_time_s=1)
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = [
        threading.Thread(target=r.run, args=(stop,), name=r.endpoint.subscription.name, daemon=True) for r in runners
    ]
    for thread in threads:
        thread.start()
    stop.wait()
    log.info("event runner stopping")
    for thread in threads:
        thread.join(timeout=WAIT_TIME_S + 2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
