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
        delegated_sign_in -> Bool,
        initiate_login_uri -> Nullable<Text>,
        backchannel_logout_uri -> Nullable<Text>,
        program_agent -> Bool,
        ciba_mode -> Nullable<Text>,
        ciba_notification_endpoint -> Nullable<Text>,
        id_token_signed_response_alg -> Text,
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
        email -> Nullable<Text>,
        display_name -> Nullable<Text>,
        team -> Nullable<Text>,
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
        family_id -> Nullable<Text>,
        grant_id -> Nullable<Text>,
        parent_id -> Nullable<Text>,
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
        key_era -> Integer,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_sub -> Nullable<Text>,
        csrf_token -> Text,
        auth_time -> Nullable<BigInt>,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    app_consents (user_sub, client_id) {
        user_sub -> Text,
        client_id -> Text,
        scopes -> Text,
        granted_at -> BigInt,
    }
}

diesel::table! {
    authorization_codes (id) {
        id -> Text,
        client_id -> Text,
        redirect_uri -> Text,
        user_sub -> Text,
        scopes -> Text,
        nonce -> Nullable<Text>,
        code_challenge -> Text,
        auth_time -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
        redeemed_at -> Nullable<BigInt>,
        grant_id -> Nullable<Text>,
        actor_sub -> Nullable<Text>,
        sid -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        family_id -> Text,
        client_id -> Text,
        user_sub -> Text,
        scopes -> Text,
        auth_time -> BigInt,
        issued_at -> BigInt,
        expires_at -> BigInt,
        family_expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
        grant_id -> Nullable<Text>,
        actor_sub -> Nullable<Text>,
        sid -> Nullable<Text>,
    }
}

diesel::table! {
    access_requests (id) {
        id -> Text,
        agent_sub -> Text,
        subject_sub -> Text,
        client_id -> Text,
        scopes -> Text,
        duration -> BigInt,
        reason -> Text,
        ticket -> Text,
        status -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        decided_at -> Nullable<BigInt>,
        grant_id -> Nullable<Text>,
        apps -> Text,
    }
}

diesel::table! {
    grants (id) {
        id -> Text,
        subject_sub -> Text,
        agent_sub -> Nullable<Text>,
        client_id -> Text,
        scopes -> Text,
        audiences -> Text,
        reason -> Text,
        ticket -> Text,
        request_id -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        revoked_by -> Nullable<Text>,
        team -> Nullable<Text>,
        apps -> Text,
        first_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        throttle_key -> Text,
        failed_at -> BigInt,
    }
}

diesel::table! {
    introspection_marks (token_id, client_id, minute) {
        token_id -> Text,
        client_id -> Text,
        minute -> BigInt,
    }
}

diesel::table! {
    delegated_sessions (sid) {
        sid -> Text,
        grant_id -> Text,
        client_id -> Text,
        subject_sub -> Text,
        agent_sub -> Text,
        started_at -> BigInt,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        destination -> Text,
        payload -> Text,
        created_at -> BigInt,
        due_at -> BigInt,
        attempts -> Integer,
        next_attempt_at -> BigInt,
        claimed_until -> Nullable<BigInt>,
        delivered_at -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        grant_id -> Nullable<Text>,
        event_id -> Nullable<Text>,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        #[sql_name = "type"]
        event_type -> Text,
        subject_id -> Text,
        data -> Nullable<Text>,
        created_at -> BigInt,
        due_at -> BigInt,
        happened_at -> Nullable<BigInt>,
        dropped_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        url -> Text,
        sealed_secret -> Binary,
        event_types -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    set_receivers (id) {
        id -> Text,
        url -> Text,
        audience -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    ciba_requests (auth_req_id_hash) {
        auth_req_id_hash -> Text,
        request_id -> Text,
        client_id -> Text,
        poll_interval -> Integer,
        polled_at -> Nullable<BigInt>,
        issued_at -> Nullable<BigInt>,
        sealed_auth_req_id -> Nullable<Binary>,
        sealed_notification_token -> Nullable<Binary>,
        created_at -> BigInt,
    }
}

diesel::table! {
    user_identities (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        user_sub -> Text,
        linked_at -> BigInt,
        last_used_at -> BigInt,
    }
}

diesel::table! {
    upstream_logins (state_hash) {
        state_hash -> Text,
        upstream_id -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        return_to -> Text,
        max_age -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

// The tables one statement reads together (`IssuedTokenRow::standing`).
diesel::allow_tables_to_appear_in_same_query!(issued_tokens, users, grants);
