//! The rows `behalf grow` adds, table by table: each an `INSERT … SELECT`
//! expression over the series `i` (bench/README.md "Growth" gives the sizes).

use super::{CLIENT, Grower, YEAR};

impl Grower {
    pub(super) async fn users(&self) -> Result<(), String> {
        let exprs = format!(
            "{}, '{p}user' || i, NULL, (i % 100 = 0), {t}, NULL, '{p}user' || i || '@example.com', \
             'Grown User ' || i, CASE WHEN i % 100 = 0 THEN 'Team ' || (i % 7) END",
            self.id("usr", "i"),
            p = self.prefix,
            t = self.spread(self.args.users),
        );
        self.fill(
            "users",
            "users",
            "sub, username, password_hash, is_agent, created_at, disabled_at, email, display_name, team",
            exprs,
            "",
            self.args.users,
        )
        .await
    }

    const GRANT_COLUMNS: &str = "id, subject_sub, agent_sub, client_id, scopes, audiences, reason, ticket, \
         request_id, created_at, expires_at, revoked_at, revoked_by, team, apps, first_used_at";

    /// A grant's values: created at `t`, lasting two hours, every third revoked after ten minutes.
    fn grant_values(
        &self,
        id: String,
        subject: String,
        agent: String,
        request: String,
        t: String,
    ) -> String {
        format!(
            "{id}, {subject}, {agent}, '{CLIENT}', 'read', '', 'grown', 'G-' || i, {request}, \
             {t}, {t} + 7200, CASE WHEN i % 3 = 0 THEN {t} + 600 END, \
             CASE WHEN i % 3 = 0 THEN 'user' END, NULL, '', {t} + 60"
        )
    }

    pub(super) async fn grants(&self) -> Result<(), String> {
        let n = self.args.grants;
        let everyone = self.grant_values(
            self.id("grant", "i"),
            self.user("i"),
            self.agent("i"),
            self.id("req", "i"),
            self.spread(n),
        );
        self.fill("grants", "grants", Self::GRANT_COLUMNS, everyone, "", n)
            .await?;
        // The heavy user's ended grants, from the busy agent; the newest last.
        let heavy = self.args.heavy_ended_grants;
        let span = YEAR - 3 * 3600;
        let ended = self.grant_values(
            self.id("agrant", "i"),
            format!("'{}'", self.heavy_sub),
            format!("'{}'", self.busy_sub),
            "NULL".into(),
            format!("{} + (i * {span}) / {}", self.now - YEAR, heavy.max(1)),
        );
        self.fill(
            "grants (heavy user, ended)",
            "grants",
            Self::GRANT_COLUMNS,
            ended,
            "",
            heavy,
        )
        .await?;
        // The busy agent's grants: one for each approved request below.
        let mine = self.grant_values(
            self.id("bgrant", "i"),
            self.user("i"),
            format!("'{}'", self.busy_sub),
            self.id("breq", "i"),
            self.spread(self.args.agent_requests),
        );
        self.fill(
            "grants (busy agent)",
            "grants",
            Self::GRANT_COLUMNS,
            mine,
            "i % 2 = 0",
            self.args.agent_requests,
        )
        .await
    }

    const REQUEST_COLUMNS: &str = "id, agent_sub, subject_sub, client_id, scopes, duration, reason, ticket, \
         status, created_at, expires_at, decided_at, grant_id, apps";

    pub(super) async fn requests(&self) -> Result<(), String> {
        let values = |id: String, agent: String, approved_grant: String, t: String| {
            format!(
                "{id}, {agent}, {subject}, '{CLIENT}', 'read', 3600, 'grown', 'R-' || i, \
                 CASE WHEN i % 2 = 0 THEN 'approved' WHEN i % 4 = 1 THEN 'denied' ELSE 'cancelled' END, \
                 {t} - 300, {t} + 86400, {t}, CASE WHEN i % 2 = 0 THEN {approved_grant} END, ''",
                subject = self.user("i"),
            )
        };
        let n = self.args.requests;
        let everyone = values(
            self.id("req", "i"),
            self.agent("i"),
            self.id("grant", "i"),
            self.spread(n),
        );
        self.fill(
            "access_requests",
            "access_requests",
            Self::REQUEST_COLUMNS,
            everyone,
            "",
            n,
        )
        .await?;
        let m = self.args.agent_requests;
        let mine = values(
            self.id("breq", "i"),
            format!("'{}'", self.busy_sub),
            self.id("bgrant", "i"),
            self.spread(m),
        );
        self.fill(
            "access_requests (busy agent)",
            "access_requests",
            Self::REQUEST_COLUMNS,
            mine,
            "",
            m,
        )
        .await
    }

    const TOKEN_COLUMNS: &str = "id, kind, client_id, subject, issued_at, expires_at, revoked_at, family_id, grant_id, parent_id";

    /// Half access tokens of a code flow's family, half delegated tokens under a
    /// grant and an actor token; one in 50 revoked.
    fn token_values(&self, issued: &str, lifetime: &str) -> String {
        format!(
            "{id}, CASE WHEN i % 2 = 0 THEN 'delegated_access_token' ELSE 'access_token' END, \
             '{CLIENT}', {subject}, {issued}, {issued} + {lifetime}, \
             CASE WHEN i % 50 = 0 THEN {issued} + 10 END, \
             CASE WHEN i % 2 = 1 THEN {family} END, CASE WHEN i % 2 = 0 THEN {grant} END, \
             CASE WHEN i % 2 = 0 THEN {parent} END",
            id = self.sql.id(),
            subject = self.user("i"),
            family = self.id("fam", "i / 2"),
            grant = self.id("grant", &format!("1 + i % {}", self.args.grants.max(1))),
            parent = self.id("actor", "i % 100000"),
        )
    }

    pub(super) async fn live_tokens(&self) -> Result<(), String> {
        let issued = format!("({} - i % 3600)", self.now);
        self.tokens(
            "issued_tokens (live)",
            &issued,
            "3600 + i % 82800",
            self.args.tokens,
        )
        .await
    }

    pub(super) async fn expired_tokens(&self) -> Result<(), String> {
        let issued = format!("({} - 2 * 86400 - i % 86400)", self.now);
        self.tokens(
            "issued_tokens (expired)",
            &issued,
            "300",
            self.args.expired_tokens,
        )
        .await
    }

    /// `rows` token records issued at `issued`, living `lifetime` seconds.
    async fn tokens(
        &self,
        what: &str,
        issued: &str,
        lifetime: &str,
        rows: u64,
    ) -> Result<(), String> {
        let values = self.token_values(issued, lifetime);
        self.fill(what, "issued_tokens", Self::TOKEN_COLUMNS, values, "", rows)
            .await
    }

    pub(super) async fn refresh_tokens(&self) -> Result<(), String> {
        let t = format!("({} - i % 86400)", self.now);
        let exprs = format!(
            "{hash}, {family}, '{CLIENT}', {user}, 'openid read', {t}, {t}, {t} + 1209600, \
             {t} + 2592000, CASE WHEN i % 2 = 0 THEN {t} + 3600 END, NULL, NULL, NULL, NULL",
            hash = self.sql.hash(),
            family = self.id("rfam", "i / 2"),
            user = self.user("i"),
        );
        self.fill(
            "refresh_tokens",
            "refresh_tokens",
            "id, family_id, client_id, user_sub, scopes, auth_time, issued_at, expires_at, \
             family_expires_at, used_at, revoked_at, grant_id, actor_sub, sid",
            exprs,
            "",
            self.args.refresh_tokens,
        )
        .await
    }

    pub(super) async fn sessions(&self) -> Result<(), String> {
        let t = format!("({} - i % 28800)", self.now);
        let exprs = format!(
            "{hash}, {user}, {csrf}, {t}, {t}, {t} + 28800",
            hash = self.sql.hash(),
            user = self.user("i"),
            csrf = self.sql.id(),
        );
        self.fill(
            "sessions",
            "sessions",
            "id, user_sub, csrf_token, auth_time, created_at, expires_at",
            exprs,
            "",
            self.args.sessions,
        )
        .await
    }
}
