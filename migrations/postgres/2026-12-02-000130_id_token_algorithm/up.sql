-- A client's `id_token_signed_response_alg` (OpenID Connect Dynamic Client
-- Registration 1.0 §2; docs/contract.md "Tokens and claims"): the algorithm
-- its ID tokens (and its logout tokens) are signed with, RS256 (the default,
-- which OIDC requires) or ES256. Each has its own signing key (RFC 8725 §3.1).
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT 'RS256';
