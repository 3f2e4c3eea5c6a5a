"""The local gateway's own behaviour: API Gateway-style refusals reshaped like in AWS."""

from __future__ import annotations

import json

from local.gateway import gateway_response_body


def test_policy_refusals_get_the_contract_shape() -> None:
    headers = {"x-amzn-ErrorType": "AccessDeniedException", "Content-Type": "text/plain"}
    body = gateway_response_body(403, headers, b'{"Message": "User is not authorized to access this resource"}')
    assert json.loads(body) == {"Code": "ForbiddenError", "Message": "Not allowed for this token"}
    assert headers["Content-Type"] == "application/json"


def test_missing_token_gets_the_contract_shape() -> None:
    body = gateway_response_body(401, {"x-amzn-ErrorType": "UnauthorizedException"}, b'{"message":"Unauthorized"}')
    assert json.loads(body)["Code"] == "UnauthorizedError"


def test_the_apps_own_errors_pass_through() -> None:
    own = b'{"Code": "ForbiddenError", "Message": "admins only"}'
    assert gateway_response_body(403, {"x-amzn-ErrorType": "x"}, own) == own
    plain = b'{"Code": "NotFoundError", "Message": "no such drink"}'
    assert gateway_response_body(404, {}, plain) == plain
    assert gateway_response_body(403, {}, b"{}") == b"{}"
