"""The embedded Keycloak's discovery document: what Keycloak 26.7 publishes for a realm, key for key and in its order.

Written from the document a real Keycloak 26.7.3 served for the test realm (``tests/keycloak``); the differential
test compares the two. Endpoints the mock does not serve (authorization, introspection, ...) are listed all the
same, as Keycloak lists them: a client reads the ones it needs.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["discovery_document"]

_JWS: Final = ("PS384", "RS384", "EdDSA", "ES384", "HS256", "HS512", "ES256", "RS256", "HS384", "ES512", "PS256",
               "PS512", "RS512")
_ASYMMETRIC_JWS: Final = ("PS384", "RS384", "EdDSA", "ES384", "ES256", "RS256", "ES512", "PS256", "PS512", "RS512")
_JWE_ALG: Final = ("ECDH-ES+A256KW", "ECDH-ES+A192KW", "ECDH-ES+A128KW", "RSA-OAEP", "RSA-OAEP-256", "RSA1_5",
                   "ECDH-ES")
_JWE_ENC: Final = ("A256GCM", "A192GCM", "A128GCM", "A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512")
_CLIENT_AUTH: Final = ("private_key_jwt", "client_secret_basic", "client_secret_post", "tls_client_auth",
                       "client_secret_jwt")
GRANT_TYPES: Final = ("authorization_code", "client_credentials", "implicit", "password", "refresh_token",
                      "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer",
                      "urn:ietf:params:oauth:grant-type:token-exchange", "urn:ietf:params:oauth:grant-type:uma-ticket",
                      "urn:openid:params:grant-type:ciba")
SCOPES: Final = ("openid", "profile", "offline_access", "address", "roles", "basic", "microprofile-jwt", "acr", "phone",
                 "service_account", "organization", "email", "web-origins")


def discovery_document(issuer: str) -> dict[str, Any]:
    """The OpenID Connect discovery document of the realm whose issuer is ``issuer``."""
    oidc = f"{issuer}/protocol/openid-connect"
    endpoints = {
        "token_endpoint": f"{oidc}/token",
        "revocation_endpoint": f"{oidc}/revoke",
        "introspection_endpoint": f"{oidc}/token/introspect",
        "device_authorization_endpoint": f"{oidc}/auth/device",
        "registration_endpoint": f"{issuer}/clients-registrations/openid-connect",
        "userinfo_endpoint": f"{oidc}/userinfo",
        "pushed_authorization_request_endpoint": f"{oidc}/ext/par/request",
        "backchannel_authentication_endpoint": f"{oidc}/ext/ciba/auth",
    }
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{oidc}/auth",
        "token_endpoint": endpoints["token_endpoint"],
        "introspection_endpoint": endpoints["introspection_endpoint"],
        "userinfo_endpoint": endpoints["userinfo_endpoint"],
        "end_session_endpoint": f"{oidc}/logout",
        "frontchannel_logout_session_supported": True,
        "frontchannel_logout_supported": True,
        "jwks_uri": f"{oidc}/certs",
        "check_session_iframe": f"{oidc}/login-status-iframe.html",
        "grant_types_supported": list(GRANT_TYPES),
        "acr_values_supported": ["0", "1"],
        "response_types_supported": ["code", "none", "id_token", "token", "id_token token", "code id_token",
                                     "code token", "code id_token token"],
        "subject_types_supported": ["public", "pairwise"],
        "prompt_values_supported": ["none", "login", "consent"],
        "id_token_signing_alg_values_supported": list(_JWS),
        "id_token_encryption_alg_values_supported": list(_JWE_ALG),
        "id_token_encryption_enc_values_supported": list(_JWE_ENC),
        "userinfo_signing_alg_values_supported": [*_JWS, "none"],
        "userinfo_encryption_alg_values_supported": list(_JWE_ALG),
        "userinfo_encryption_enc_values_supported": list(_JWE_ENC),
        "request_object_signing_alg_values_supported": [*_JWS, "none"],
        "request_object_encryption_alg_values_supported": list(_JWE_ALG),
        "request_object_encryption_enc_values_supported": list(_JWE_ENC),
        "response_modes_supported": ["query", "fragment", "form_post", "query.jwt", "fragment.jwt", "form_post.jwt",
                                     "jwt"],
        "registration_endpoint": endpoints["registration_endpoint"],
        "token_endpoint_auth_methods_supported": list(_CLIENT_AUTH),
        "token_endpoint_auth_signing_alg_values_supported": list(_JWS),
        "introspection_endpoint_auth_methods_supported": list(_CLIENT_AUTH),
        "introspection_endpoint_auth_signing_alg_values_supported": list(_JWS),
        "authorization_signing_alg_values_supported": list(_JWS),
        "authorization_encryption_alg_values_supported": list(_JWE_ALG),
        "authorization_encryption_enc_values_supported": list(_JWE_ENC),
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "name", "given_name", "family_name",
                             "preferred_username", "email", "acr", "azp", "nonce"],
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": True,
        "scopes_supported": list(SCOPES),
        "request_parameter_supported": True,
        "request_uri_parameter_supported": True,
        "require_request_uri_registration": True,
        "code_challenge_methods_supported": ["plain", "S256"],
        "tls_client_certificate_bound_access_tokens": True,
        "dpop_signing_alg_values_supported": list(_ASYMMETRIC_JWS),
        "revocation_endpoint": endpoints["revocation_endpoint"],
        "revocation_endpoint_auth_methods_supported": list(_CLIENT_AUTH),
        "revocation_endpoint_auth_signing_alg_values_supported": list(_JWS),
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "device_authorization_endpoint": endpoints["device_authorization_endpoint"],
        "backchannel_token_delivery_modes_supported": ["poll", "ping"],
        "backchannel_authentication_endpoint": endpoints["backchannel_authentication_endpoint"],
        "backchannel_authentication_request_signing_alg_values_supported": list(_ASYMMETRIC_JWS),
        "require_pushed_authorization_requests": False,
        "pushed_authorization_request_endpoint": endpoints["pushed_authorization_request_endpoint"],
        "mtls_endpoint_aliases": endpoints,
        "authorization_response_iss_parameter_supported": True,
    }
