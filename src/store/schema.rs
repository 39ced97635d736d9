//! Diesel table definitions shared by both backends (the migrations under
//! `migrations/sqlite` and `migrations/postgres` create the same shape).

diesel::table! {
    clients (client_id) {
        client_id -> Text,
        secret_hash -> Nullable<Binary>,
        is_public -> Bool,
        first_party -> Bool,
        name -> Text,
        redirect_uris -> Text,
        grant_types -> Text,
        scopes -> Text,
        audiences -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    users (sub) {
        sub -> Text,
        username -> Text,
        password_hash -> Nullable<Text>,
        is_agent -> Bool,
        created_at -> BigInt,
        disabled_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        purpose -> Text,
        encrypted_pkcs8 -> Binary,
        public_jwk -> Text,
        published_at -> BigInt,
        signs_from -> BigInt,
    }
}

diesel::table! {
    issued_tokens (id) {
        id -> Text,
        kind -> Text,
        client_id -> Text,
        subject -> Text,
        issued_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        occurred_at -> BigInt,
        actor -> Text,
        action -> Text,
        subject -> Nullable<Text>,
        detail -> Text,
        prev_hash -> Binary,
        hash -> Binary,
    }
}
