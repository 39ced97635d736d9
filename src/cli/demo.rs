//! `behalf serve --demo`: seeds a user (alice), an agent (bob, team Support), a support console
//! client, a resource-server client (and `examples/resource_server` on 127.0.0.1:3001 as a
//! Security Event Token receiver) and Example Shop (`examples/example_shop`, a
//! delegated-sign-in app on 127.0.0.1:3000), each person with an address at
//! example.com (their mails are logged unless `[email] smtp_url` is set), mints bob an agent token, and prints a
//! walkthrough from access request to approval, exchange, introspection and the
//! end of access. Demo credentials are fixed and printed: for local trials only.

use crate::accounts;
use crate::accounts::profile::Profile;
use crate::app::App;
use crate::clients::{Client, GrantType};
use crate::oauth::registration::{self, NewClient};
use crate::oauth::user_tokens::{Grant, UserTokens};
use crate::random;
use crate::secret::Secret;
use crate::store::StoreError;
use crate::store::clients::ClientRow;
use crate::store::set_receivers::SetReceiverRow;
use crate::store::users::UserRow;

pub const CONSOLE: &str = "demo-console";
pub const CONSOLE_SECRET: &str = "demo-console-secret-for-local-trials-only";
pub const RESOURCE_SERVER: &str = "demo-api";
pub const RESOURCE_SERVER_SECRET: &str = "demo-api-secret-for-local-trials-only";
/// Example Shop, as `cargo run --example example_shop` runs it by default.
pub const SHOP: &str = "shop";
pub const SHOP_SECRET: &str = "demo-shop-secret-for-local-trials-only";
const SHOP_BASE: &str = "http://127.0.0.1:3000";
/// The example resource server (`cargo run --example resource_server`), told by a
/// Security Event Token when a grant ends.
const RESOURCE_SERVER_BASE: &str = "http://127.0.0.1:3001";
pub const ALICE_PASSWORD: &str = "alice-demo-password";
pub const BOB_PASSWORD: &str = "bob-demo-password";
/// Plain words for the demo's scopes on the consent screen, where the operator
/// gave none (`[policy.scope_descriptions]`).
const SCOPE_WORDS: [(&str, &str); 2] = [
    ("read", "See your orders, invoices and account details"),
    ("write", "Change your orders and account details"),
];

pub fn describe_scopes(words: &mut std::collections::HashMap<String, String>) {
    for (scope, description) in SCOPE_WORDS {
        words
            .entry(scope.into())
            .or_insert_with(|| description.into());
    }
}

/// bob's team.
pub const TEAM: &str = "Support";

fn client(new: NewClient, now: i64) -> ClientRow {
    registration::register(new, now)
        .expect("the demo clients are valid")
        .0
}

/// Seeds what is missing (a restart keeps what is there) and returns bob's new agent token.
pub async fn seed(app: &App) -> Result<String, StoreError> {
    let now = app.now();
    let console = client(
        NewClient {
            client_id: CONSOLE.into(),
            first_party: true,
            secret: Some(Secret::new(CONSOLE_SECRET.into())),
            redirect_uris: vec![format!("{}/account", app.issuer)],
            grant_types: vec![
                GrantType::AuthorizationCode.as_str().into(),
                GrantType::TokenExchange.as_str().into(),
            ],
            scopes: ["openid", "profile", "agent", "read", "write"]
                .map(String::from)
                .to_vec(),
            name: Some("Demo support console".into()),
            ..NewClient::default()
        },
        now,
    );
    let api = client(
        NewClient {
            client_id: RESOURCE_SERVER.into(),
            secret: Some(Secret::new(RESOURCE_SERVER_SECRET.into())),
            grant_types: vec![GrantType::ClientCredentials.as_str().into()],
            name: Some("Demo API (resource server)".into()),
            ..NewClient::default()
        },
        now,
    );
    let shop = client(
        NewClient {
            client_id: SHOP.into(),
            secret: Some(Secret::new(SHOP_SECRET.into())),
            redirect_uris: vec![format!("{SHOP_BASE}/callback")],
            grant_types: vec![
                GrantType::AuthorizationCode.as_str().into(),
                GrantType::RefreshToken.as_str().into(),
            ],
            scopes: ["openid", "profile", "read"].map(String::from).to_vec(),
            name: Some("Example Shop".into()),
            delegated_sign_in: true,
            initiate_login_uri: Some(format!("{SHOP_BASE}/initiate")),
            backchannel_logout_uri: Some(format!("{SHOP_BASE}/backchannel-logout")),
            ..NewClient::default()
        },
        now,
    );
    let users = [
        accounts::new_user("alice", Some(ALICE_PASSWORD), false, now).map(|alice| {
            Profile {
                email: Some("alice@example.com".into()),
                ..Profile::default()
            }
            .apply(alice)
        }),
        accounts::new_user("bob", Some(BOB_PASSWORD), true, now).map(|bob| {
            Profile {
                email: Some("bob@example.com".into()),
                name: Some("Bob (Support)".into()),
                team: Some(TEAM.into()),
            }
            .apply(bob)
        }),
    ]
    .map(|u| u.expect("the demo users are valid"));
    let receiver = SetReceiverRow {
        id: "rcv_demo_api".into(),
        url: format!("{RESOURCE_SERVER_BASE}/security-events"),
        audience: app.default_audience.clone(),
        created_at: now,
    };
    let bob = app
        .db
        .run(move |c| {
            if !SetReceiverRow::all(c)?.iter().any(|r| r.id == receiver.id) {
                receiver.insert(c)?;
            }
            for row in [console, api, shop] {
                if ClientRow::find(c, &row.client_id)?.is_none() {
                    row.insert(c)?;
                }
            }
            for user in users {
                if UserRow::find_by_username(c, &user.username)?.is_none() {
                    user.insert(c)?;
                }
            }
            Ok(UserRow::find_by_username(c, "bob")?.expect("seeded"))
        })
        .await?;
    // As if bob had signed in to the console with scope `openid agent`.
    let console = Client::from(
        app.db
            .run(|c| ClientRow::find(c, CONSOLE))
            .await?
            .expect("seeded"),
    );
    let family = format!("demo-{}", random::identifier());
    let tokens = UserTokens::prepare(
        &app.issuer,
        &app.settings,
        now,
        Grant {
            client: &console,
            user_sub: &bob.sub,
            scopes: vec!["openid".into(), "agent".into()],
            family_scopes: "openid agent".into(),
            auth_time: now,
            family_id: &family,
            family_expires_at: now + app.settings.access_token_ttl_seconds,
            audiences: vec![app.default_audience.clone()],
            nonce: None,
            delegation: None,
        },
    );
    app.db
        .run(move |c| tokens.write(c).map(|_| tokens))
        .await?
        .respond(&app.keys.snapshot(), &app.issuer)
        .map(|r| r.access_token)
        .map_err(|e| StoreError::Unavailable(e.error_description.to_string()))
}

pub fn walkthrough(issuer: &str, bob_token: &str) -> String {
    let te = "urn:ietf:params:oauth:grant-type:token-exchange";
    format!(
        r#"
behalf demo at {issuer} (demo credentials: for a local trial only)
  alice / {ALICE_PASSWORD}     a user
  bob / {BOB_PASSWORD}         a support agent
  {CONSOLE} / {CONSOLE_SECRET}
  {RESOURCE_SERVER} / {RESOURCE_SERVER_SECRET}
  {SHOP} / {SHOP_SECRET}   Example Shop, a delegated-sign-in app

Example Shop (another shell): SHOP_CLIENT_SECRET={SHOP_SECRET} cargo run --example example_shop
  alice, on {issuer}/account: "Allow support access" to the Support team, "Sign in to Example Shop as you" ticked
  bob: {SHOP_BASE}/initiate?iss={issuer}&login_hint=alice -> "Act as alice in Example Shop"

The example API (another shell): BEHALF_RS_CLIENT={RESOURCE_SERVER} BEHALF_RS_SECRET={RESOURCE_SERVER_SECRET} cargo run --example resource_server
  it checks delegated tokens itself ({RESOURCE_SERVER_BASE}/account) and, registered here as a
  Security Event Token receiver, refuses a grant's tokens the moment the grant ends.
  Webhooks: `behalf webhook add URL` prints a whsec_ secret; every event is then POSTed, signed.

Mail: alice (alice@example.com) and bob (bob@example.com) are told of each step by mail.
  Without [email] smtp_url (the demo's default) each mail is written to this log instead,
  as a line "mail not sent (no [email] smtp_url): to=..., subject=..." with its text;
  set BEHALF_EMAIL_SMTP_URL=smtp://127.0.0.1:25 (a local mail server) to send them.

Paste these lines into a shell, in order. A step that fails says why and stops there
(curl -f, and a check of each value before it is used).

export BEHALF={issuer}
export BOB_TOKEN={bob_token}

# 1. bob (through the support console) asks alice for access
REQUEST_ID=$(curl -fsS -X POST $BEHALF/api/access-requests -H "Authorization: Bearer $BOB_TOKEN" \
  -H 'Content-Type: application/json' \
  -d '{{"subject":"alice","scope":"read write","duration":7200,"reason":"Checking a billing error you reported","ticket":"SUP-1234"}}' \
  | sed -n 's/.*"id":"\([^"]*\)".*/\1/p'); echo "request ${{REQUEST_ID:?no request: see the error above}}"

# 2. alice approves it: open {issuer}/account, sign in as alice, choose what to allow

# 3. bob reads the answer: status "approved" and the grant id
curl -fsS $BEHALF/api/access-requests/${{REQUEST_ID:?run step 1 first}} -H "Authorization: Bearer $BOB_TOKEN"; echo
GRANT_ID=$(curl -fsS $BEHALF/api/access-requests/$REQUEST_ID -H "Authorization: Bearer $BOB_TOKEN" \
  | sed -n 's/.*"grant_id":"\([^"]*\)".*/\1/p'); echo "grant ${{GRANT_ID:?no grant yet: has alice approved? (step 2)}}"

# 4. the console exchanges bob's token and the grant for a delegated token (RFC 8693)
DELEGATED=$(curl -fsS -u {CONSOLE}:{CONSOLE_SECRET} -d grant_type={te} \
  -d subject_token=${{GRANT_ID:?run step 3 first}} -d subject_token_type=urn:behalf:params:oauth:token-type:grant_id \
  -d actor_token=$BOB_TOKEN -d actor_token_type=urn:ietf:params:oauth:token-type:access_token \
  $BEHALF/token | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'); echo "delegated token ${{DELEGATED:?no delegated token: see the error above}}" | cut -c1-40

# 5. an API asks whether the token is active, and who is really acting (RFC 7662)
curl -fsS -u {RESOURCE_SERVER}:{RESOURCE_SERVER_SECRET} -d token=${{DELEGATED:?run step 4 first}} $BEHALF/introspect; echo

# 6. alice ends access on {issuer}/account ("End access now"), or bob ends it:
curl -fsS -X DELETE $BEHALF/api/grants/$GRANT_ID -H "Authorization: Bearer $BOB_TOKEN"; echo
curl -fsS -u {RESOURCE_SERVER}:{RESOURCE_SERVER_SECRET} -d token=$DELEGATED $BEHALF/introspect; echo
# -> {{"active":false}}

# 7. the audit trail's newest checkpoint, signed when access ended: keep it, and later
#    `behalf audit verify --checkpoint <checkpoint>` shows whether any event was removed
curl -fsS --retry 5 --retry-all-errors --retry-delay 1 -u {RESOURCE_SERVER}:{RESOURCE_SERVER_SECRET} $BEHALF/audit/checkpoint; echo

Discovery: {issuer}/.well-known/openid-configuration   Keys: {issuer}/jwks.json
"#
    )
}
