"""What a stage costs: idle per month, and per party. Shown by `make plan`; the README's
cost section is this module's `markdown()` (a test keeps them equal).

Prices are us-east-1 on-demand list prices from the pages in PRICE_SOURCES, without the
free tiers (which would make a small party close to free). The usage is an assumption,
stated in PARTY; nothing here was measured against a real bill.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICE_SOURCES = {
    "API Gateway": "https://aws.amazon.com/api-gateway/pricing/",
    "Lambda": "https://aws.amazon.com/lambda/pricing/",
    "Aurora DSQL": "https://aws.amazon.com/rds/aurora/dsql/pricing/",
    "AppSync Events": "https://aws.amazon.com/appsync/pricing/",
    "CloudFront": "https://aws.amazon.com/cloudfront/pricing/",
    "S3": "https://aws.amazon.com/s3/pricing/",
    "Secrets Manager": "https://aws.amazon.com/secrets-manager/pricing/",
    "EventBridge + SQS": "https://aws.amazon.com/eventbridge/pricing/ and https://aws.amazon.com/sqs/pricing/",
    "Bedrock": "https://aws.amazon.com/bedrock/pricing/ (Amazon Nova Lite, Nova Canvas)",
    "CloudWatch Logs": "https://aws.amazon.com/cloudwatch/pricing/",
    "Cognito": "https://aws.amazon.com/cognito/pricing/ (the first 10,000 monthly active users are free)",
}

# The party the per-party column prices (an assumption, not a measurement).
PARTY = {
    "guests": 40,
    "hours": 4,
    "orders": 120,
    "api_requests": 3000,  # 60 per guest (menu, orders, status) + 600 from the host's console
    "lambda_invocations": 5600,  # API + token authorizer + realtime relay + photo prompts
    "lambda_avg_ms": 150,
    "dsql_dpus_per_request": 2,  # unmeasured: check CloudWatch's TotalDPU after a party
    "realtime_operations": 2700,  # publishes, deliveries, subscribes
    "cloudfront_gb": 0.14,  # app shell 0.5 MB + photos 3 MB per guest
    "cloudfront_requests": 3200,
    "events": 600,
    "new_drinks": 10,  # Bedrock photo prompts (about 400 tokens in, 150 out) and, when on, a picture each
    "log_gb": 0.011,
}


@dataclass(frozen=True)
class Line:
    service: str
    what: str
    idle_month: float
    per_party: float


def lines(*, api_cache: bool, images: bool = True, memory_mb: int = 512) -> list[Line]:
    p = PARTY
    gb_s = p["lambda_invocations"] * p["lambda_avg_ms"] / 1000 * memory_mb / 1024
    cache = [Line("API Gateway", "stage cache 0.5 GB, $0.020/hour, always on", 730 * 0.020, 0.0)] if api_cache else []
    return cache + [
        Line("API Gateway", f"{p['api_requests']:,} REST requests at $3.50/million", 0.0,
             p["api_requests"] * 3.50e-6),
        Line("Lambda", f"{p['lambda_invocations']:,} invocations, {gb_s:.0f} GB-s ($0.20/million, "
             "$0.0000166667/GB-s)", 0.0, p["lambda_invocations"] * 0.20e-6 + gb_s * 0.0000166667),
        Line("Aurora DSQL", f"{p['api_requests'] * p['dsql_dpus_per_request']:,} DPUs at $8.00/million; "
             "storage 10 MB at $0.33/GB-month", 0.01 * 0.33,
             p["api_requests"] * p["dsql_dpus_per_request"] * 8.0e-6),
        Line("AppSync Events", f"{p['realtime_operations']:,} operations ($1.00/million), "
             f"{(p['guests'] + 1) * p['hours'] * 60:,} connection-minutes ($0.08/million)", 0.0,
             p["realtime_operations"] * 1.0e-6 + (p["guests"] + 1) * p["hours"] * 60 * 0.08e-6),
        Line("CloudFront", f"{p['cloudfront_gb']} GB out ($0.085/GB), {p['cloudfront_requests']:,} HTTPS "
             "requests ($0.01/10,000)", 0.0, p["cloudfront_gb"] * 0.085 + p["cloudfront_requests"] * 1.0e-6),
        Line("S3", "web app, photos, Lambda packages: about 0.2 GB at $0.023/GB-month", 0.2 * 0.023,
             p["new_drinks"] * 2 * 0.005e-3),
        Line("Secrets Manager", "the guest-token signing key, $0.40/month", 0.40, 0.0),
        Line("EventBridge + SQS", f"{p['events']:,} events ($1.00/million), 3 SQS requests each "
             "($0.40/million)", 0.0, p["events"] * 1.0e-6 + p["events"] * 3 * 0.40e-6),
        Line("Bedrock", f"{p['new_drinks']} photo prompts on Nova Lite ($0.06 / $0.24 per million tokens "
             "in / out)", 0.0, p["new_drinks"] * (400 * 0.06e-6 + 150 * 0.24e-6)),
        *([Line("Bedrock images", f"{p['new_drinks']} drink pictures on Nova Canvas, 1280x960 standard "
                "($0.06 each); IMAGE_NIGHTLY_CAP bounds a night", 0.0, p["new_drinks"] * 0.06)] if images else []),
        Line("CloudWatch Logs", f"{p['log_gb']} GB ingested ($0.50/GB), kept 0.1 GB ($0.03/GB-month)",
             0.1 * 0.03, p["log_gb"] * 0.50),
        Line("Cognito", "the host's sign-in (free tier)", 0.0, 0.0),
    ]


def totals(*, api_cache: bool, images: bool = True) -> tuple[float, float]:
    found = lines(api_cache=api_cache, images=images)
    return sum(line.idle_month for line in found), sum(line.per_party for line in found)


def _money(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else "<$0.01"


def text(*, api_cache: bool, images: bool = True) -> str:
    """For `make plan`: one line per service and the totals."""
    idle, party = totals(api_cache=api_cache, images=images)
    rows = [f"  {'service':<18} {'idle/month':>11} {'per party':>10}  what"]
    for line in lines(api_cache=api_cache, images=images):
        rows.append(f"  {line.service:<18} {_money(line.idle_month):>11} {_money(line.per_party):>10}  {line.what}")
    rows.append(f"  {'total':<18} {_money(idle):>11} {_money(party):>10}")
    p = PARTY
    rows.append(f"  (a party: {p['guests']} guests, {p['hours']} hours, {p['orders']} orders, "
                f"{p['api_requests']:,} API requests; us-east-1 list prices without free tiers; an estimate)")
    rows.append("  prices:")
    rows.extend(f"    {service}: {url}" for service, url in PRICE_SOURCES.items())
    return "\n".join(rows)


def markdown() -> str:
    """The README's cost table: both stage defaults (dev: no cache, prod: cache)."""
    dev_idle, dev_party = totals(api_cache=False)
    prod_idle, prod_party = totals(api_cache=True)
    rows = ["| service | idle per month | per party | what |", "|---|---:|---:|---|"]
    for line in lines(api_cache=True):
        rows.append(f"| {line.service} | {_money(line.idle_month)} | {_money(line.per_party)} | {line.what} |")
    _, no_images = totals(api_cache=False, images=False)
    rows.append(f"| **dev** (no cache) | **{_money(dev_idle)}** | **{_money(dev_party)}** | "
                f"{_money(no_images)} per party without AI pictures (`IMAGE_GENERATION=off`) |")
    rows.append(f"| **prod** (cache on) | **{_money(prod_idle)}** | **{_money(prod_party)}** | |")
    rows.append("")
    rows.append("Prices: " + ", ".join(f"[{service}]({url.split(' ')[0]})" for service, url in PRICE_SOURCES.items())
                + ".")
    return "\n".join(rows)
