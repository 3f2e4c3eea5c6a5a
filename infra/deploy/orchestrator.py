"""`make deploy`, `make plan` and `make destroy` for one stage (see docs/deploy.md).

Every step prints its number and name, what it changed, and its time; a failure says
which step failed and why (CloudFormation's own reason for stacks), and a rerun
continues: finished stacks come back as "unchanged" change sets, a stack whose first
create rolled back is deleted and created again, and the database, admin and web
steps only do what is missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import string
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from infra import publish_web
from infra.deploy import cfn, cost, preflight
from infra.deploy.cfn import Poller, StackState
from infra.deploy.layer import LayerError, build_pictures_layer, layer_key
from infra.deploy.stacks import (
    API_ENV,
    API_REALTIME_ENV,
    API_STAGE,
    APP,
    BY_KEY,
    ORDER,
    ROOT,
    MissingOutput,
    Options,
    StackSpec,
    load_template,
    resolve,
    stack_name,
)
from infra.deploy.template import PackageError, api_template, chalice_package, code_key

ADMIN_USER = "admin"
ADMIN_GROUP = "admin"
INVITE_NOTE = "make deploy"
INVITE_HOURS = 24
INVITE_USES = 200


class DeployError(Exception):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"step '{step}' failed: {message}")
        self.step, self.message = step, message


def _reason(error: BaseException) -> str:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return f"{info.get('Code', 'Error')}: {info.get('Message', '')}"
    if isinstance(error, MissingOutput):
        return f"needs the {error} (deploy that stack first)"
    if isinstance(error, SystemExit):
        return str(error.code)
    text = str(error)
    known = (cfn.StackError, PackageError, LayerError, RuntimeError, BotoCoreError, OSError)
    return text if isinstance(error, known) and text else f"{type(error).__name__}: {text}"


class Reporter:
    """Numbered steps with their outcome and time, on one stream."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.count = 0
        self.steps: list[tuple[str, str]] = []

    def say(self, text: str = "") -> None:
        print(text, file=self.stream, flush=True)

    def note(self, text: str) -> None:
        self.say(f"      {text}")

    @contextmanager
    def step(self, name: str) -> Iterator[dict[str, str]]:
        self.count += 1
        self.say(f"[{self.count:>2}] {name}")
        started = time.monotonic()
        result = {"outcome": "done"}
        try:
            yield result
        except DeployError:
            raise
        except (Exception, SystemExit) as error:
            self.say(f"      FAILED: {_reason(error)}")
            self.steps.append((name, "failed"))
            raise DeployError(name, _reason(error)) from error
        self.steps.append((name, result["outcome"]))
        self.note(f"{result['outcome']} ({time.monotonic() - started:.1f} s)")


class Clients:
    """boto3 clients from one session; tests hand in moto-backed or stubbed ones."""

    def __init__(self, session: Any = None, overrides: dict[str, Any] | None = None) -> None:
        if session is None:
            import boto3

            # AWS_REGION (what the AWS CLI and SDKs read) or boto3's AWS_DEFAULT_REGION / profile region.
            session = boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)
        self.session = session
        self.overrides = dict(overrides or {})
        self._made: dict[tuple[str, str | None], Any] = {}

    @property
    def region(self) -> str:
        return str(self.session.region_name or "")

    def __call__(self, service: str, region: str | None = None) -> Any:
        if service in self.overrides and region in (None, self.region):
            return self.overrides[service]
        key = (service, region)
        if key not in self._made:
            self._made[key] = self.session.client(service, region_name=region or self.region)
        return self._made[key]


def dsql_admin_connect(endpoint: str, region: str, dsql: Any,
                       connect: Callable[..., Any] | None = None) -> tuple[Any, bool]:
    """The DSQL `admin` user with a token (a local signature, no call); TLS."""
    if connect is None:
        import psycopg

        connect = psycopg.connect
    token = dsql.generate_db_connect_admin_auth_token(Hostname=endpoint, Region=region)
    conn = connect(host=endpoint, port=5432, dbname="postgres", user="admin", password=token,
                   sslmode="require", autocommit=True, connect_timeout=15)
    return conn, True


def chalice_stage_env(stage: str, root: Path = ROOT) -> dict[str, str]:
    config = json.loads((root / ".chalice" / "config.json").read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config.get("stages", {}).get(stage, {}).get("environment_variables", {}))
    return {k: str(v) for k, v in env.items()}


def stage_environment(stage: str, generated: dict[str, str], region: str) -> dict[str, str]:
    """What the stage's functions see: .chalice/config.json's variables, the generated ones
    over them (empty values left out), and the region."""
    env = {k: v for k, v in chalice_stage_env(stage).items() if v}
    env.update({k: v for k, v in generated.items() if v})
    env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = region
    return env


def stage_exports(stage: str, state_dir: Path | None = None) -> str:
    """`export NAME='value'` lines from the generated stage config, so
    `eval "$(python -m infra.deploy env --stage dev)"; make migrate` reaches the stage's DSQL."""
    import shlex

    path = (state_dir or ROOT / ".local" / "deploy" / stage) / "stage.json"
    data = json.loads(path.read_text())
    env = stage_environment(stage, data["environment_variables"], data["region"])
    return "\n".join(f"export {k}={shlex.quote(str(v))}" for k, v in sorted(env.items()))


def run_illustrations(env: dict[str, str]) -> str:
    """`make illustrations` with the stage's environment: every drink's drawing into the
    media bucket (chalicelib/images.py; same bytes under the same key, so a rerun changes
    nothing). Returns how many drinks it drew."""
    import subprocess

    code = "from chalicelib import images; print(images.ensure_illustrations())"
    # Never the local stack's database or emulator, whatever the shell has.
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AWS_ENDPOINT_URL")}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **env},
                            capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise RuntimeError("drawing the illustrations failed: " + " / ".join(tail))
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "0"


def image_model(env: dict[str, str]) -> str:
    """The image model the stage's picture handler calls, or "" when it generates none."""
    return env.get("IMAGE_MODEL_ID", "") if env.get("IMAGE_GENERATION", "off").lower() == "on" else ""


def bedrock_models(options: Options) -> list[tuple[str, str]]:
    """(label, model id) of every Bedrock model the stage calls; the text model is always
    listed (empty: the offline writer), the image model only when pictures are generated."""
    found = [("Bedrock model", options.bedrock_model_id)]
    if options.image_model_id:
        found.append(("Bedrock image model", options.image_model_id))
    return found


def temporary_password() -> str:
    """16 characters meeting infra/auth.yaml's policy (upper, lower, digit)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(16))
        if any(c.islower() for c in candidate) and any(c.isupper() for c in candidate) \
                and any(c.isdigit() for c in candidate):
            return candidate


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def published_unchanged(s3: Any, bucket: str, files: dict[str, Path], config: dict[str, Any]) -> bool:
    """True when the bucket already holds exactly this build and this /config.json
    (single-part uploads with SSE-S3 have the content's MD5 as their ETag)."""
    present: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        present.update({o["Key"]: o["ETag"].strip('"') for o in page.get("Contents", [])})
    wanted = {key: _md5(path.read_bytes()) for key, path in files.items()}
    wanted[publish_web.CONFIG_KEY] = _md5(json.dumps(config, indent=2).encode())
    return present == wanted


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker; returns how many. A missing bucket is empty."""
    removed = 0
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            batch = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                     for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            for start in range(0, len(batch), 1000):
                s3.delete_objects(Bucket=bucket, Delete={"Objects": batch[start:start + 1000], "Quiet": True})
            removed += len(batch)
    except ClientError as error:
        if error.response["Error"].get("Code") == "NoSuchBucket":
            return removed
        raise
    return removed


@dataclass
class Deployment:
    stage: str
    clients: Clients
    reporter: Reporter = field(default_factory=Reporter)
    options: Options | None = None
    state_dir: Path | None = None
    poller: Poller = field(default_factory=Poller)
    dist: Path = publish_web.DIST
    package: Callable[[str, Path], Path] = chalice_package
    pictures_layer: Callable[[Path], Path] = build_pictures_layer  # Pillow, the picture handler's alone
    connect: Callable[[str, str, Any], tuple[Any, bool]] = dsql_admin_connect
    admin_email: str = ""
    admin_password: str = ""
    domain_prefix: str = ""
    api_cache: bool | None = None
    invite: bool = True
    illustrate: Callable[[dict[str, str]], str] = run_illustrations
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    join_url: str = ""
    join_until: str = ""
    _api_template: dict[str, Any] | None = None

    # ------------------------------------------------------------------ shared

    @property
    def cf(self) -> Any:
        return self.clients("cloudformation")

    def _state_dir(self) -> Path:
        return self.state_dir or ROOT / ".local" / "deploy" / self.stage

    def _options(self) -> Options:
        if self.options is None:
            raise RuntimeError("preflight has not run")
        return self.options

    def _make_options(self, account: str) -> Options:
        env = chalice_stage_env(self.stage)
        # The stage's API_CACHE_ENABLED in .chalice/config.json, unless --api-cache says otherwise.
        configured = env.get("API_CACHE_ENABLED", "true" if self.stage == "prod" else "false").lower() == "true"
        cache = self.api_cache if self.api_cache is not None else configured
        self.options = Options(stage=self.stage, region=self.clients.region, account=account,
                               domain_prefix=self.domain_prefix, api_cache=cache,
                               admin_email=self.admin_email, admin_password=self.admin_password,
                               bedrock_model_id=env.get("BEDROCK_MODEL_ID", ""),
                               bedrock_region=env.get("BEDROCK_REGION", ""),
                               image_model_id=image_model(env))
        return self.options

    def _require_region(self) -> None:
        if not self.clients.region:
            raise RuntimeError("no region: set AWS_REGION (for example us-east-1) or use a profile with a region")

    def tags(self) -> dict[str, str]:
        return {"app": APP, "stage": self.stage}

    def _describe(self, key: str) -> StackState | None:
        state = cfn.describe(self.cf, stack_name(self.stage, key))
        if state is not None and state.outputs:
            self.outputs[key] = state.outputs
        return state

    def _template_args(self, spec: StackSpec) -> dict[str, str]:
        if spec.key == "api":
            return {"TemplateURL": self._upload_api_template()}
        assert spec.template is not None
        body = spec.template.read_text(encoding="utf-8")
        if len(body.encode()) <= cfn.MAX_TEMPLATE_BODY:
            return {"TemplateBody": body}
        return {"TemplateURL": self._upload(f"templates/{spec.key}-{_md5(body.encode())}.yaml", body.encode())}

    def _declared(self, spec: StackSpec) -> dict[str, Any]:
        if spec.key == "api":
            return dict(self._built_api_template().get("Parameters", {}))
        assert spec.template is not None
        return dict(load_template(spec.template).get("Parameters", {}))

    def _bucket(self) -> str:
        bucket = self.outputs.get("artifacts", {}).get("ArtifactsBucket")
        if not bucket:
            raise MissingOutput("artifacts", "ArtifactsBucket")
        return bucket

    def _upload(self, key: str, body: bytes) -> str:
        s3 = self.clients("s3")
        bucket = self._bucket()
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except ClientError:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        return f"https://{bucket}.s3.{self.clients.region}.amazonaws.com/{key}"

    # ------------------------------------------------------------------ the API package

    def _built_api_template(self) -> dict[str, Any]:
        if self._api_template is None:
            raise RuntimeError("the API package is not built yet")
        return self._api_template

    def build_api(self) -> str:
        """chalice package (cached), the code zip uploaded under its content hash, the
        template made (template.py). Returns the code key."""
        out = self.package(self.stage, self._state_dir() / "package")
        zip_path = out / "deployment.zip"
        key = code_key(self.stage, zip_path)
        s3 = self.clients("s3")
        bucket = self._bucket()
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except ClientError:
            s3.upload_file(str(zip_path), bucket, key)
        # The same for every stage: one cache beside the test and deploy packages.
        layer_zip = self.pictures_layer(ROOT / ".local" / "pictures-layer")
        layer = layer_key(self.stage, layer_zip)
        try:
            s3.head_object(Bucket=bucket, Key=layer)
        except ClientError:
            s3.upload_file(str(layer_zip), bucket, layer)
        sam = json.loads((out / "sam.json").read_text())
        self._api_template = api_template(sam, code_uri=f"s3://{bucket}/{key}",
                                          pictures_layer_uri=f"s3://{bucket}/{layer}")
        return key

    def _upload_api_template(self) -> str:
        body = json.dumps(self._built_api_template(), indent=1, sort_keys=True).encode()
        return self._upload(f"templates/api-{_md5(body)}.json", body)

    # ------------------------------------------------------------------ steps

    def _preflight(self) -> None:
        with self.reporter.step("preflight") as result:
            self._require_region()
            if os.environ.get("AWS_ENDPOINT_URL"):
                raise RuntimeError(f"AWS_ENDPOINT_URL is set ({os.environ['AWS_ENDPOINT_URL']}: the local emulator?); "
                                   "unset it to deploy to AWS")
            who = preflight.identity(self.clients("sts"))
            options = self._make_options(who["Account"])
            self.reporter.note(f"account {who['Account']} as {who['Arn']}, region {options.region}")
            region = options.region
            checks = preflight.check_tools(self.dist)
            checks.append(preflight.check_service("Aurora DSQL", region,
                                                  lambda: self.clients("dsql").list_clusters(maxResults=1)))
            checks.append(preflight.check_service("AppSync Events", region,
                                                  lambda: self.clients("appsync").list_apis(maxResults=1)))
            bedrock_region = options.bedrock_region or region
            for label, model in bedrock_models(options):
                checks.append(preflight.check_bedrock(self.clients("bedrock", bedrock_region), model, bedrock_region,
                                                      label))
            auth = self._describe("auth")
            our_pool = auth.outputs.get("UserPoolId", "") if auth else ""
            checks.append(preflight.check_domain(self.clients("cognito-idp"), options.value("domain_prefix"),
                                                 who["Account"], our_pool))
            if auth is None and not options.admin_email:
                checks.append(preflight.Check("admin e-mail", False, "the first deploy creates the `admin` user: "
                                              "set ADMIN_EMAIL=<the host's address> (for password recovery)"))
            for check in checks:
                self.reporter.note(f"{'ok ' if check.ok else 'NO '} {check.name}: {check.detail}")
            problems = [c for c in checks if not c.ok]
            if problems:
                raise RuntimeError("; ".join(f"{c.name}: {c.detail}" for c in problems))
            result["outcome"] = "ok"

    def _stack(self, key: str, label: str = "", *, partial: bool = False,
               only_if_missing: bool = False) -> tuple[cfn.Result, dict[str, str]]:
        spec = BY_KEY[key]
        name = stack_name(self.stage, key)
        with self.reporter.step(f"stack {name}" + (f" ({label})" if label else "")) as result:
            if only_if_missing:
                existing = self._describe(key)
                if existing is not None and existing.status not in ("ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS"):
                    result["outcome"] = "exists (skipped)"
                    return cfn.Result("unchanged", existing.outputs), existing.parameters
            declared = self._declared(spec)
            if partial:  # only what is known now; the rest keeps the template defaults
                declared = {k: v for k, v in declared.items() if "Default" not in v or k == "Stage"}
            params = resolve(spec, self.outputs, self._options(), declared=declared)
            done = cfn.deploy(self.cf, name, template=self._template_args(spec), parameters=params,
                              tags=self.tags(), poller=self.poller,
                              on_changes=lambda changes: [self.reporter.note(c.line()) for c in changes])
            self.outputs[key] = done.outputs
            result["outcome"] = done.outcome
            return done, params

    def api_environment(self) -> dict[str, str]:
        """The API's generated environment variables, as its stack parameters set them."""
        params = resolve(BY_KEY["api"], self.outputs, self._options(), declared={
            param: {"Default": ""} for param, _source in API_ENV.values()})
        env = {variable: params.get(param, "") for variable, (param, _source) in API_ENV.items()}
        env.update({v: self.outputs.get("api", {}).get(v.replace("_", ""), "") for v in API_REALTIME_ENV})
        return env

    def write_stage_config(self) -> Path:
        """.local/deploy/<stage>/stage.json: every stack's outputs and the API's generated
        environment (what the API stack's parameters were set from)."""
        options = self._options()
        env = self.api_environment()
        web = self.outputs.get("web", {}).get("WebUrl", "")
        data = {
            "stage": self.stage,
            "region": options.region,
            "account": options.account,
            "api_cache": options.api_cache,
            "urls": {"web": web, "admin": f"{web}/admin" if web else "", "display": f"{web}/display" if web else "",
                     "api": self.outputs.get("api", {}).get("EndpointURL", ""),
                     "hosted_login": self.outputs.get("auth", {}).get("HostedUiDomain", "")},
            "environment_variables": env,
            "stacks": {key: {"name": stack_name(self.stage, key), "outputs": self.outputs.get(key, {})}
                       for key in ORDER},
        }
        path = self._state_dir() / "stage.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(data, indent=2, sort_keys=True) + "\n"
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
        return path

    def _database(self) -> None:
        from sql.migrate import migrate
        from sql.seed import seed

        db = self.outputs["database"]
        with self.reporter.step("database: migrations and seed menu (DSQL admin)") as result:
            conn, dsql = self.connect(db["DsqlEndpoint"], self.clients.region, self.clients("dsql"))
            try:
                applied = migrate(conn, dsql=dsql, substitutions={"DSQL_READER_ROLE_ARN": db["ReaderRoleArn"],
                                                                  "DSQL_WRITER_ROLE_ARN": db["WriterRoleArn"]})

                def write(fn: Callable[..., Any], *args: Any) -> Any:
                    with conn.transaction():
                        return fn(conn, *args)

                inserted = seed(write)
                self.reporter.note(f"migrations applied: {', '.join(applied) or 'none (up to date)'}")
                self.reporter.note("seed: " + ", ".join(f"{t} +{n}" for t, n in inserted.items()))
                if self.invite:
                    self.join_url = self._invite(conn)
            finally:
                conn.close()
            result["outcome"] = "changed" if applied or any(inserted.values()) else "unchanged"

    def _invite(self, conn: Any) -> str:
        """A live invite made by make deploy (reused while it lasts), for the join QR."""
        from psycopg.rows import dict_row

        from chalicelib import guests

        conn.row_factory = dict_row
        web = self.outputs["web"]["WebUrl"]
        with conn.transaction():
            for code in guests.list_codes(conn, web):
                if code["status"] == "active" and code["created_by"] == INVITE_NOTE:
                    self.join_until = str(code["expires_at"])
                    return str(code["join_url"])
            made = guests.create_code(conn, expires_in_hours=INVITE_HOURS, max_uses=INVITE_USES,
                                      note="the first invite (make deploy)", created_by=INVITE_NOTE, base_url=web)
        self.join_until = str(made["expires_at"])
        self.reporter.note(f"new invite {made['code']}: {INVITE_USES} guests, {INVITE_HOURS} hours")
        return str(made["join_url"])

    def _admin(self) -> None:
        cognito = self.clients("cognito-idp")
        pool = self.outputs["auth"]["UserPoolId"]
        with self.reporter.step(f"admin user `{ADMIN_USER}` (Cognito)") as result:
            try:
                cognito.admin_get_user(UserPoolId=pool, Username=ADMIN_USER)
                result["outcome"] = "unchanged"
            except ClientError as error:
                if error.response["Error"].get("Code") != "UserNotFoundException":
                    raise
                options = self._options()
                if not options.admin_email:
                    raise RuntimeError("there is no `admin` user yet: set ADMIN_EMAIL=<the host's address>") \
                        from error
                password = options.admin_password or temporary_password()
                cognito.admin_create_user(
                    UserPoolId=pool, Username=ADMIN_USER, TemporaryPassword=password, MessageAction="SUPPRESS",
                    UserAttributes=[{"Name": "email", "Value": options.admin_email},
                                    {"Name": "email_verified", "Value": "true"}],
                )
                if not options.admin_password:
                    self.reporter.note(f"temporary password (shown once; the sign-in asks for a new one): {password}")
                result["outcome"] = "created"
            groups = cognito.admin_list_groups_for_user(UserPoolId=pool, Username=ADMIN_USER).get("Groups", [])
            if ADMIN_GROUP not in {g["GroupName"] for g in groups}:
                cognito.admin_add_user_to_group(UserPoolId=pool, Username=ADMIN_USER, GroupName=ADMIN_GROUP)
                result["outcome"] = "created" if result["outcome"] == "created" else "added to group admin"

    def _publish(self) -> None:
        web, api, auth = self.outputs["web"], self.outputs["api"], self.outputs["auth"]
        with self.reporter.step("web app: frontend/dist and /config.json") as result:
            config = publish_web.runtime_config(
                stage=self.stage,
                api_url=api["EndpointURL"],
                api_key=publish_web.fetch_api_key(api["ApiKeyId"], self.clients("apigateway")),
                auth_domain=auth["HostedUiDomain"],
                auth_client_id=auth["AuthClientId"],
                realtime_http_url=api["REALTIMEHTTPURL"],
                realtime_ws_url=api["REALTIMEWSURL"],
            )
            s3 = self.clients("s3")
            if published_unchanged(s3, web["WebBucket"], publish_web.dist_files(self.dist), config):
                result["outcome"] = "unchanged"
                return
            done = publish_web.publish(dist=self.dist, bucket=web["WebBucket"], distribution_id=web["DistributionId"],
                                       config=config, s3=s3, cloudfront=self.clients("cloudfront"))
            result["outcome"] = f"uploaded {len(done['uploaded'])}, deleted {len(done['deleted'])}"

    def _summary(self) -> None:
        import segno

        web = self.outputs["web"]["WebUrl"]
        say = self.reporter.say
        say("")
        say(f"drink-assistant {self.stage} is up:")
        say(f"  guests' menu   {web}/")
        say(f"  admin console  {web}/admin   (user `{ADMIN_USER}`)")
        say(f"  bar display    {web}/display")
        say(f"  API            {self.outputs['api']['EndpointURL']}")
        say(f"  stage config   {self._state_dir() / 'stage.json'}")
        target = self.join_url or f"{web}/"
        what = f"the invite, valid until {self.join_until}; more in the admin console" if self.join_url \
            else "the menu; invites are in the admin console"
        say(f"\nJoin ({what}): {target}")
        segno.make(target, error="m").terminal(out=self.reporter.stream, compact=True)

    # ------------------------------------------------------------------ commands

    def deploy(self) -> None:
        self._preflight()
        self._stack("artifacts")
        self._stack("web", "its URL first", partial=True, only_if_missing=True)
        for key in ("database", "auth", "media", "events"):
            self._stack(key)
        with self.reporter.step("API package (chalice package, cached by its inputs)") as result:
            result["outcome"] = f"s3://{self._bucket()}/{self.build_api()}"
        _done, api_params = self._stack("api")
        # With the stage cache on, the flush needs the API's own id: known once it exists.
        if resolve(BY_KEY["api"], self.outputs, self._options(), declared=self._declared(BY_KEY["api"])) != api_params:
            self._stack("api", "its own id for the cache flush")
        self._stack("web", "Content-Security-Policy with every origin")
        with self.reporter.step("generated stage config") as result:
            result["outcome"] = str(self.write_stage_config())
        self._database()
        with self.reporter.step("drink illustrations into the media bucket") as result:
            env = stage_environment(self.stage, self.api_environment(), self.clients.region)
            result["outcome"] = f"{self.illustrate(env)} drinks drawn (same bytes under the same keys)"
        self._admin()
        self._publish()
        self._summary()

    def plan(self) -> None:
        """What `deploy` would create or change, stack by stack, and the cost."""
        self._preflight()
        with self.reporter.step("find the stage's stacks") as found:
            states = {key: self._describe(key) for key in ORDER}
            found["outcome"] = ", ".join(k for k in ORDER if states[k]) or "none yet"
        for key in ORDER:
            spec, state = BY_KEY[key], states[key]
            name = stack_name(self.stage, key)
            with self.reporter.step(f"plan {name}") as result:
                if key == "api" and states["artifacts"] is None:
                    result["outcome"] = "would be created (after the artifacts bucket exists)"
                    continue
                if key == "api":
                    self.build_api()
                template = self._built_api_template() if key == "api" else load_template(spec.template)  # type: ignore[arg-type]
                if state is None:
                    for logical, resource in template.get("Resources", {}).items():
                        self.reporter.note(f"+ {logical} {resource.get('Type', '?')}")
                    result["outcome"] = f"would be created ({len(template.get('Resources', {}))} resources)"
                    continue
                try:
                    params = resolve(spec, self.outputs, self._options(), declared=self._declared(spec))
                except MissingOutput as missing:
                    result["outcome"] = f"would be updated once the {missing} exists"
                    continue
                done = cfn.plan(self.cf, name, state, template=self._template_args(spec), parameters=params,
                                tags=self.tags(), poller=self.poller)
                for change in done.changes:
                    self.reporter.note(change.line())
                result["outcome"] = "no changes" if done.outcome == "unchanged" else \
                    f"would change {len(done.changes)} resources"
        self.reporter.say("\nCost (estimate):")
        self.reporter.say(cost.text(api_cache=self._options().api_cache, images=bool(self._options().image_model_id)))

    def destroy(self, *, yes: bool = False, delete_database: bool = False,
                confirm: Callable[[str], str] = input) -> None:
        """Delete what deploy made, in reverse order; buckets are emptied first."""
        with self.reporter.step("find the stage's stacks") as result:
            self._require_region()
            states = {key: self._describe(key) for key in ORDER}
            present = [key for key in ORDER if states[key] is not None]
            result["outcome"] = ", ".join(present) or "none"
        if not present:
            self.reporter.say(f"nothing to delete for stage {self.stage}")
            return
        keep = [] if delete_database else ["database"]
        self.reporter.say(f"\nThis deletes stage {self.stage}: " + ", ".join(
            stack_name(self.stage, k) for k in reversed(present) if k not in keep))
        self.reporter.say("  with every photo, the web app, the admin sign-in and the guest-token key.")
        if "database" in present and not delete_database:
            self.reporter.say(f"  The database stays: its Aurora DSQL cluster has deletion protection on "
                              f"(infra/database.yaml), so the menu, orders and guests survive. Idle it costs "
                              f"only its storage. `make destroy STAGE={self.stage} DELETE_DATABASE=1` turns "
                              "the protection off and deletes it too.")
        elif delete_database and "database" in present:
            self.reporter.say("  AND the Aurora DSQL database: its deletion protection is turned off first; "
                              "the menu, orders and guests are gone for good.")
        if not yes:
            if not sys.stdin.isatty() and confirm is input:
                raise DeployError("confirm", "not a terminal: run with --yes (make destroy ... YES=1) to confirm")
            if confirm(f"Type the stage name ({self.stage}) to delete it: ").strip() != self.stage:
                raise DeployError("confirm", "not confirmed; nothing was deleted")
        s3 = self.clients("s3")
        for key in reversed(ORDER):
            if states[key] is None or key in keep:
                continue
            spec = BY_KEY[key]
            name = stack_name(self.stage, key)
            with self.reporter.step(f"delete {name}") as result:
                outputs = self.outputs.get(key, {})
                emptied = sum(empty_bucket(s3, outputs[b]) for b in spec.buckets + spec.retained_buckets
                              if outputs.get(b))
                if key == "database":
                    self._unprotect_database(outputs)
                cfn.delete(self.cf, name, self.poller)
                for bucket in spec.retained_buckets:  # DeletionPolicy: Retain kept it
                    if outputs.get(bucket):
                        empty_bucket(s3, outputs[bucket])
                        self._delete_bucket(s3, outputs[bucket])
                if key == "auth" and outputs.get("UserPoolId"):
                    self._delete_user_pool(outputs["UserPoolId"])
                if key == "api":
                    self._delete_leftovers()
                result["outcome"] = "deleted" + (f" ({emptied} objects emptied first)" if emptied else "")
        self.reporter.say(f"\nstage {self.stage} is gone" + (" (the database stays)" if keep and
                                                             "database" in present else ""))

    def _unprotect_database(self, outputs: dict[str, str]) -> None:
        endpoint = outputs.get("DsqlEndpoint", "")
        identifier = endpoint.split(".", 1)[0]
        if identifier:
            self.clients("dsql").update_cluster(identifier=identifier, deletionProtectionEnabled=False)
            self.reporter.note(f"deletion protection off for DSQL cluster {identifier}")

    @staticmethod
    def _delete_bucket(s3: Any, bucket: str) -> None:
        try:
            s3.delete_bucket(Bucket=bucket)
        except ClientError as error:
            if error.response["Error"].get("Code") != "NoSuchBucket":
                raise

    def _delete_user_pool(self, pool: str) -> None:
        """infra/auth.yaml retains the pool and protects it; the stack is gone, so is the stage."""
        cognito = self.clients("cognito-idp")
        try:
            cognito.update_user_pool(UserPoolId=pool, DeletionProtection="INACTIVE",
                                     AdminCreateUserConfig={"AllowAdminCreateUserOnly": True})
            cognito.delete_user_pool(UserPoolId=pool)
        except ClientError as error:
            if error.response["Error"].get("Code") != "ResourceNotFoundException":
                raise
        self.reporter.note(f"user pool {pool} deleted")

    def _delete_leftovers(self) -> None:
        """What the API's functions made outside CloudFormation: the guest-token key
        (created on first use) and the Lambda log groups."""
        secret = chalice_stage_env(self.stage).get("GUEST_KEY_SECRET_ID", f"{APP}/{self.stage}/guest-token-key")
        try:
            self.clients("secretsmanager").delete_secret(SecretId=secret, ForceDeleteWithoutRecovery=True)
            self.reporter.note(f"secret {secret} deleted")
        except ClientError as error:
            if error.response["Error"].get("Code") != "ResourceNotFoundException":
                raise
        logs = self.clients("logs")
        prefix = f"/aws/lambda/{APP}-{self.stage}-"
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix):
            for group in page.get("logGroups", []):
                logs.delete_log_group(logGroupName=group["logGroupName"])
                self.reporter.note(f"log group {group['logGroupName']} deleted")


__all__ = ["API_STAGE", "Clients", "DeployError", "Deployment", "Reporter"]
