"""Bartender quality and speed: `python benchmarks/bartender_eval.py`.

Measured, never asserted. Over the committed scripted conversations
(benchmarks/data/bartender_conversations.json: requests with constraints, off-menu asks,
injections, orders; the offline engine, and Bedrock answers replayed through botocore's
Stubber, some of them wrong on purpose), against the seeded 60-drink menu:

* grounding: the share of replies whose drink cards are all on the menu and allowed for
  the guest, and whose text offers no drink the guest cannot order (a sentence may name
  one only to say it is not there). Checked by this file's own checker from the seed
  data (benchmarks/recommend_eval.py's), not by the bartender's. Must be 100%.
* constraint compliance: turns with an expectation ("with gin", at least one drink,
  words the reply must contain) that the reply meets.
* proposal correctness: turns whose proposal is exactly the expected drinks and
  quantities (or no proposal where none is expected).
* latency per turn (in-process, the menu already loaded; Stubber answers instantly).

Options: --json (the numbers as JSON), --verbose (every failed check).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import botocore.session  # noqa: E402
from botocore.stub import Stubber  # noqa: E402

from benchmarks.recommend_eval import broken_rules, load_seed, seed_menu  # noqa: E402
from chalicelib import bartender  # noqa: E402
from chalicelib.bartender_tools import Context, fold  # noqa: E402
from chalicelib.recommend import TasteProfile, spirit_of  # noqa: E402

CONVERSATIONS = Path(__file__).parent / "data" / "bartender_conversations.json"
MODEL = "us.amazon.nova-lite-v1:0"
NEGATION = re.compile(r"\b(not|no|don'?t|isn'?t|can'?t|cannot|unavailable|contains|inte|ingen|sorry|tyvarr)\b")


def _answer(steps: list[dict[str, Any]], last_result: dict[str, Any] | None, n: int) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for step in steps:
        if "tool" in step:
            content.append({"toolUse": {"toolUseId": f"t{n}", "name": step["tool"], "input": step["input"]}})
        else:
            top = ((last_result or {}).get("drinks") or [{"name": "house special"}])[0]["name"]
            content.append({"text": step["text"].replace("{top}", top)})
    stop = "tool_use" if any("toolUse" in c for c in content) else "end_turn"
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {"inputTokens": 400, "outputTokens": 40, "totalTokens": 440},
        "metrics": {"latencyMs": 0},
    }


class ReplayClient:
    """A real bedrock-runtime client whose answers come from the script, through Stubber
    (so every request is validated against the Converse API's shapes)."""

    def __init__(self, script: Any) -> None:
        self.client = botocore.session.get_session().create_client(
            "bedrock-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        self.stub = Stubber(self.client)
        self.script = script
        self.calls = 0

    def converse(self, **params: Any) -> Any:
        if self.script == "throttle":
            self.stub.add_client_error("converse", "ThrottlingException", "Too many requests", 429)
        else:
            results = [b["toolResult"] for m in params["messages"] for b in m["content"] if "toolResult" in b]
            last = results[-1]["content"][0]["json"] if results else None
            steps = self.script[min(self.calls, len(self.script) - 1)]
            self.stub.add_response("converse", _answer(steps, last, self.calls))
        self.calls += 1
        with self.stub:
            return self.client.converse(**params)


def allowed(seed: Mapping[str, Any], rules: Mapping[str, Any], out_of_stock: list[str], name: str) -> bool:
    if not any(d["name"] == name for d in seed["drinks"]):
        return False
    return not broken_rules(seed, {"profile": rules, "out_of_stock": out_of_stock}, name)


def ungrounded(seed: Mapping[str, Any], turn: Any, rules: Mapping[str, Any], out: list[str]) -> list[str]:
    problems = [f"card {d['name']}" for d in turn.drinks if not allowed(seed, rules, out, d["name"])]
    names = {fold(d["name"]): d["name"] for d in seed["drinks"]}
    names.update({fold(n): n for n in bartender.KNOWN_COCKTAILS})
    for sentence in re.split(r"(?<=[.!?])\s+", turn.reply):
        text = fold(sentence)
        for key in sorted(names, key=len, reverse=True):
            if re.search(rf"(?<![\w']){re.escape(key)}(?:e?s)?(?![\w'])", text):
                text = text.replace(key, " ")
                if not allowed(seed, rules, out, names[key]) and not NEGATION.search(fold(sentence)):
                    problems.append(f"offers {names[key]}: {sentence!r}")
    for line in turn.proposal or ():
        if not allowed(seed, rules, out, line["drink_id"]):
            problems.append(f"proposes {line['drink_id']}")
    return problems


def meets(seed: Mapping[str, Any], turn: Any, expect: Mapping[str, Any]) -> list[str]:
    problems = []
    if len(turn.drinks) < expect.get("min_drinks", 0):
        problems.append(f"{len(turn.drinks)} drinks, wanted >= {expect['min_drinks']}")
    if "with" in expect:
        family = expect["with"]
        catalog = {i["name"].lower(): i for i in seed["ingredients"]}
        for drink in turn.drinks:
            parts = [catalog[i["name"].lower()] for i in drink["ingredients"]]
            spirits = {spirit_of(p["name"]) for p in parts if p["category"] == "spirit"}
            if family not in spirits:
                problems.append(f"{drink['name']} has no {family}")
    for words in expect.get("reply_contains", ()):
        if words not in turn.reply:
            problems.append(f"reply lacks {words!r}")
    return problems


def evaluate() -> dict[str, Any]:
    seed = load_seed()
    data = json.loads(CONVERSATIONS.read_text(encoding="utf-8"))["conversations"]
    catalog_names = [d["name"] for d in seed["drinks"]]
    rows, latencies = [], []
    counts = {"turns": 0, "grounded": 0, "expected": 0, "met": 0, "proposals": 0, "proposals_right": 0}
    by_engine: dict[str, dict[str, int]] = {}
    for conv in data:
        menu = seed_menu(seed, conv["out_of_stock"])
        ctx_profile = TasteProfile.from_dict(conv["profile"])
        history: list[dict[str, str]] = []
        orders = [{"number": 12, "status": "pending", "items": [{"name": "Margarita", "quantity": 1}]}]
        for spec in conv["turns"]:
            ctx = Context(guest_id="eval", menu=menu, profile=ctx_profile, orders=orders)
            if conv["engine"] == "bedrock":
                engine: Any = bartender.BedrockEngine(MODEL, ReplayClient(spec["model"]))
            else:
                engine = bartender.OfflineEngine(catalog_names)
            started = time.perf_counter()
            turn = bartender.respond(engine, ctx, spec["say"], history, catalog_names)
            latencies.append((time.perf_counter() - started) * 1000)
            ctx_profile = ctx.effective_profile  # what the guest told us carries to the next turn
            history += [{"role": "guest", "text": spec["say"]}, {"role": "bartender", "text": turn.reply}]
            rules = spec["rules"]
            bad = ungrounded(seed, turn, rules, conv["out_of_stock"])
            expect = spec["expect"]
            missed = meets(seed, turn, expect)
            stats = by_engine.setdefault(conv["engine"], {"turns": 0, "grounded": 0})
            stats["turns"] += 1
            stats["grounded"] += not bad
            counts["turns"] += 1
            counts["grounded"] += not bad
            if set(expect) - {"proposal"}:
                counts["expected"] += 1
                counts["met"] += not missed
            wrong_proposal = None
            if "proposal" in expect:
                counts["proposals"] += 1
                got = sorted((line["drink_id"], line["quantity"]) for line in turn.proposal or ())
                want = sorted((p["drink"], p["quantity"]) for p in expect["proposal"])
                counts["proposals_right"] += got == want
                wrong_proposal = None if got == want else f"proposal {got}, wanted {want}"
            rows.append(
                {
                    "id": conv["id"],
                    "engine": conv["engine"],
                    "say": spec["say"],
                    "reply": turn.reply,
                    "drinks": [d["name"] for d in turn.drinks],
                    "problems": bad + missed + ([wrong_proposal] if wrong_proposal else []),
                }
            )
    ordered = sorted(latencies)
    return {
        "conversations": len(data),
        "turns": counts["turns"],
        "grounding": counts["grounded"] / counts["turns"],
        "grounding_by_engine": {k: v["grounded"] / v["turns"] for k, v in by_engine.items()},
        "constraint_compliance": counts["met"] / max(1, counts["expected"]),
        "proposal_correctness": counts["proposals_right"] / max(1, counts["proposals"]),
        "latency_ms": {
            "p50": round(statistics.median(ordered), 2),
            "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
            "max": round(ordered[-1], 2),
        },
        "rows": rows,
    }


def print_table(result: Mapping[str, Any], verbose: bool) -> None:
    print(f"bartender eval: {result['conversations']} conversations, {result['turns']} turns")
    print(f"  grounding              {result['grounding']:.1%}  (must be 100%)")
    for engine, share in result["grounding_by_engine"].items():
        print(f"    {engine:<20} {share:.1%}")
    print(f"  constraint compliance  {result['constraint_compliance']:.1%}")
    print(f"  proposal correctness   {result['proposal_correctness']:.1%}")
    lat = result["latency_ms"]
    print(f"  latency per turn       p50 {lat['p50']} ms, p95 {lat['p95']} ms, max {lat['max']} ms")
    for row in result["rows"]:
        if row["problems"] and verbose:
            print(f"  - {row['id']} [{row['engine']}] {row['say']!r}: {'; '.join(row['problems'])}")
            print(f"      reply: {row['reply']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    result = evaluate()
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=2))
    else:
        print_table(result, args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
