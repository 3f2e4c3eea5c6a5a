"""python -m infra.deploy {deploy,plan,destroy,cost,env} --stage dev|prod  (make deploy / plan / destroy).

Options also read the environment: AWS_PROFILE and AWS_REGION (the account and region),
ADMIN_EMAIL and ADMIN_PASSWORD (the first deploy's `admin` user), DOMAIN_PREFIX (the
hosted login's https://<prefix>.auth.<region>.amazoncognito.com), API_CACHE=on|off
(the stage cache; on for prod, off for dev by default).
"""

from __future__ import annotations

import argparse
import os
import sys

from infra.deploy import cost
from infra.deploy.stacks import STAGES


def _flag(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    if value.lower() in ("1", "on", "true", "yes"):
        return True
    if value.lower() in ("0", "off", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected on or off, not {value!r}")


def parser() -> argparse.ArgumentParser:
    env = os.environ.get
    top = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__.split("\n\n")[0])
    commands = top.add_subparsers(dest="command", required=True)
    for name, text in (("deploy", "create or update every stack, the database, the admin and the web app"),
                       ("plan", "show what deploy would create or change, and the cost"),
                       ("destroy", "delete what deploy created (asks first)"),
                       ("cost", "the cost estimate only (no AWS calls)"),
                       ("env", "the generated stage config as shell exports (for make migrate / seed; no AWS calls)")):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("--stage", default=env("STAGE") or "dev", help="dev or prod (STAGE)")
        if name not in ("destroy", "env"):
            sub.add_argument("--api-cache", type=_flag, default=_flag(env("API_CACHE")),
                             help="on|off: the API Gateway stage cache (API_CACHE; default: the stage's "
                                  "API_CACHE_ENABLED)")
        if name in ("deploy", "plan"):
            sub.add_argument("--admin-email", default=env("ADMIN_EMAIL", ""), help="the admin's e-mail (ADMIN_EMAIL)")
            sub.add_argument("--admin-password", default=env("ADMIN_PASSWORD", ""),
                             help="the admin's temporary password (ADMIN_PASSWORD; default: generated, shown once)")
            sub.add_argument("--domain-prefix", default=env("DOMAIN_PREFIX", ""),
                             help="hosted login domain prefix (DOMAIN_PREFIX; default: drink-assistant-STAGE-ACCOUNT)")
        if name == "deploy":
            sub.add_argument("--no-invite", action="store_true", help="no invite code for the join QR")
        if name == "destroy":
            sub.add_argument("--yes", action="store_true", default=_flag(env("YES")) or False,
                             help="do not ask (YES=1)")
            sub.add_argument("--delete-database", action="store_true",
                             default=_flag(env("DELETE_DATABASE")) or False,
                             help="also delete the DSQL cluster (turns its deletion protection off; DELETE_DATABASE=1)")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.stage not in STAGES:
        print(f"error: --stage must be one of {', '.join(STAGES)}, not {args.stage!r}", file=sys.stderr)
        return 2
    if args.command == "env":
        from infra.deploy.orchestrator import stage_exports

        try:
            print(stage_exports(args.stage))
        except FileNotFoundError as missing:
            print(f"error: {missing.filename} is missing: run `make deploy STAGE={args.stage}` first", file=sys.stderr)
            return 1
        return 0
    if args.command == "cost":
        from infra.deploy.orchestrator import chalice_stage_env, image_model

        env = chalice_stage_env(args.stage)
        configured = env.get("API_CACHE_ENABLED", str(args.stage == "prod")).lower()
        cache = args.api_cache if args.api_cache is not None else configured == "true"
        print(cost.text(api_cache=cache, images=bool(image_model(env))))
        return 0

    from infra.deploy.orchestrator import Clients, DeployError, Deployment

    deployment = Deployment(stage=args.stage, clients=Clients(), api_cache=getattr(args, "api_cache", None))
    if args.command in ("deploy", "plan"):
        deployment.admin_email = args.admin_email
        deployment.admin_password = args.admin_password
        deployment.domain_prefix = args.domain_prefix
    try:
        if args.command == "deploy":
            deployment.invite = not args.no_invite
            deployment.deploy()
        elif args.command == "plan":
            deployment.plan()
        else:
            deployment.destroy(yes=args.yes, delete_database=args.delete_database)
    except DeployError as error:
        print(f"\n{args.command} {args.stage}: {error}", file=sys.stderr)
        if args.command == "deploy":
            print("Fix that and run the same command again: finished steps are skipped.", file=sys.stderr)
        return 1
    except Exception as error:  # a bug: say what, keep the traceback for DEBUG=1
        if os.environ.get("DEBUG"):
            raise
        print(f"\n{args.command} {args.stage}: unexpected {type(error).__name__}: {error} "
              "(DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\n{args.command} {args.stage}: interrupted; run it again to continue.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
