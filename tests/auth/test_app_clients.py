"""SMART app registration rules and PKCE: exact redirect URIs (https, loopback http, private-use
schemes; app-launch.html#register-app-with-ehr, RFC 8252 section 7), the scopes an app may be
given and ask for (scopes-and-launch-context.html), and the S256 transform (RFC 7636
Appendix B)."""

from __future__ import annotations

import pytest

from fhir_server.auth.app_clients import allowed_scopes, check_redirect_uri, check_scope_token
from fhir_server.auth.app_tokens import s256
from fhir_server.auth.oauth_errors import OAuthError
from fhir_server.errors import InvalidRequest
from fhir_server.storage.app_client_records import PUBLIC, AppClient


def test_s256_matches_rfc_7636_appendix_b() -> None:
    assert s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == \
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@pytest.mark.parametrize("uri", ["https://app.example.vn/cb", "http://127.0.0.1:8765/cb",
                                 "http://localhost/cb", "vn.gov.sskd:/oauth2redirect"])
def test_redirect_uris_accepted(uri: str) -> None:
    assert check_redirect_uri(uri) == uri


@pytest.mark.parametrize("uri", ["http://app.example.vn/cb", "https://app.example.vn/cb#x",
                                 "/relative", "javascript:alert(1)", "https:///nohost", ""])
def test_redirect_uris_refused(uri: str) -> None:
    with pytest.raises(InvalidRequest):
        check_redirect_uri(uri)


@pytest.mark.parametrize("scope", ["launch/patient", "offline_access", "online_access",
                                   "patient/*.read", "patient/Immunization.rs",
                                   "patient/Observation.cruds"])
def test_scopes_an_app_may_get(scope: str) -> None:
    assert check_scope_token(scope) is None


@pytest.mark.parametrize("scope", ["user/*.read", "system/*.*", "openid", "fhirUser", "launch",
                                   "patient/Observation.rs?category=laboratory",
                                   "patient/*.sr", "profile"])
def test_scopes_an_app_never_gets(scope: str) -> None:
    assert check_scope_token(scope)


def _client(scope: str) -> AppClient:
    return AppClient("app", "App", PUBLIC, ("https://app.example.vn/cb",), scope)


def test_requested_scopes_must_all_be_allowed() -> None:
    client = _client("launch/patient patient/*.read offline_access")
    granted = allowed_scopes(client, "launch/patient patient/Immunization.rs patient/Patient.r")
    assert str(granted) == "launch/patient patient/Immunization.rs patient/Patient.r"
    for asked in ("patient/Immunization.c", "online_access", "", "patient/*.write"):
        with pytest.raises(OAuthError) as refused:
            allowed_scopes(client, asked)
        assert refused.value.error == "invalid_scope"
